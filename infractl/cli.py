"""`infractl`: the project's command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infractl.errors import UsageError

if TYPE_CHECKING:
    from infractl.project import Stack

# Each command imports what it needs when it runs: `--help`, preview reports and recorded drift
# never pay for the provider SDKs or the config model.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_TIMEOUT = 86_400.0


FORMAT_HELP = "text for a terminal, json for tools, markdown for a PR comment"


class _Version(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked for (`--help`
    and every command stay clear of the package metadata)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import version

        print(f"infractl {version('tbcoin-platform')}")
        parser.exit()


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--config-file", help="use this stack settings file instead")


def _seconds(value: str) -> float:
    """A time-out: above 0 and at most a day (`nan` compares false with every deadline, `inf`
    never expires, 0 expires before the pack can start, and gRPC cannot hold a larger one)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not (0 < seconds <= MAX_TIMEOUT):  # also false for nan
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of seconds above 0 and at most {MAX_TIMEOUT:.0f}"
        )
    return seconds


def _author_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--author",
        help="login of the token's user, whose comment/issue is updated (default: "
        "$INFRACTL_GITHUB_AUTHOR, else GET /user; the Actions token is github-actions[bot])",
    )


def _synth_options(synth: argparse.ArgumentParser) -> None:
    _stack_arguments(synth)
    synth.add_argument("--out", required=True, type=Path, help="output folder (replaced)")


def cmd_synth(args: argparse.Namespace) -> int:
    from infractl.synth.outdir import check_out

    check_out(args.out, cwd=Path.cwd())  # refuse before spending time on a synth
    from infractl.project import open_stack
    from infractl.synth.harness import synthesize
    from infractl.synth.render import write_output

    print(write_output(synthesize(open_stack(args.stack, args.config_file)), args.out))
    return EXIT_OK


def _scorecard_options(scorecard: argparse.ArgumentParser) -> None:
    _stack_arguments(scorecard)
    scorecard.add_argument(
        "--format", choices=["text", "json", "markdown"], default="text", help=FORMAT_HELP
    )
    scorecard.add_argument(
        "--base",
        type=Path,
        help="resources.json of the base branch's synth: show the change against it",
    )


def cmd_scorecard(args: argparse.Namespace) -> int:
    from infractl import scorecard_report as report
    from infractl.project import open_stack
    from infractl.synth.harness import synthesize
    from scorecard.predict import predict_resources

    base = None
    if args.base is not None:
        from infractl.resources_file import load_resources_json

        base_resources = load_resources_json(args.base)
        if not all(isinstance(r.get("inputs"), dict) for r in base_resources):
            raise UsageError(f"{args.base}: not a resources.json written by `infractl synth`")
        base = predict_resources(base_resources)
    result = synthesize(open_stack(args.stack, args.config_file))
    predictions = result.predictions
    if args.format == "json":
        print(report.as_json(predictions, args.stack))
    elif args.format == "markdown":
        print(report.markdown(predictions, args.stack, base))
    else:
        print(report.text(predictions, args.stack))
    return EXIT_OK


def _warn_unresolved(stack: Stack) -> None:
    """Offline a placeholder plans (nothing starts), so the check passes; the operator still
    learns now that `pulumi preview`/`up` will refuse it until it is set."""
    from infra.config import ConfigError
    from infra.stack import deploy_problems

    try:
        problems = deploy_problems(stack.load())
    except ConfigError:
        return  # the check itself reports an invalid config
    for problem in problems:
        print(
            f"warning: {problem.render(stack.source)}; `pulumi preview` and `up` refuse it",
            file=sys.stderr,
        )


def _check_options(check: argparse.ArgumentParser) -> None:
    _stack_arguments(check)
    source = check.add_mutually_exclusive_group()
    source.add_argument(
        "--out", type=Path, help="also write the synth output here, as `synth --out` does"
    )
    source.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        metavar="DIR",
        help="check an existing synth output (DIR/resources.json) instead of running the program",
    )
    check.add_argument(
        "--format", choices=["text", "json", "markdown"], default="text", help=FORMAT_HELP
    )
    check.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config (default: policies/config/<stack>.json)",
    )
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        help="seconds for the pack to start and answer, and with --watch for each run of the "
        "program (a finite number above 0)",
    )
    check.add_argument(
        "--charts",
        action="store_true",
        help="also render the Releases' vendored charts and check their objects; findings not "
        "in policies/chart-baseline.yaml fail (needs the test extra)",
    )
    check.add_argument(
        "--base",
        metavar="REF",
        help="also plan this tree against commit REF, offline (REF's own program and settings, "
        "synthesized in a temporary git worktree) and print the ranked changes as the PR "
        "comment shows them",
    )
    check.add_argument(
        "--watch",
        action="store_true",
        help="keep running: check again on every save of the stack's settings, policy config, "
        "program or pack, and say what changed (Ctrl-C to stop)",
    )


def cmd_check(args: argparse.Namespace) -> int:
    from infractl.policy.check import check_output, check_stack
    from infractl.policy.report import FORMATS
    from infractl.project import open_stack

    if args.watch:
        if args.base:
            raise UsageError("--base goes with one check, not --watch")
        from infractl.watch.loop import watch

        return watch(args, _warn_unresolved)
    if args.base and args.from_dir is not None:
        raise UsageError("--base plans this tree's program against REF's; it cannot use --from")
    if args.charts:
        from infractl.policy.charts import require_helm

        require_helm()
    stack = open_stack(args.stack, args.config_file)
    if args.base:
        return _check_against_base(args, stack)
    if args.from_dir is not None:
        outcome = check_output(stack, args.from_dir, args.policy_config, args.timeout, args.charts)
    else:
        summary, outcome = check_stack(
            stack, args.policy_config, args.timeout, args.out, args.charts
        )
        if summary is not None:
            # The report may be JSON on stdout; the synth summary must not corrupt it.
            print(summary, file=sys.stdout if args.format == "text" else sys.stderr)
    print(FORMATS[args.format](outcome))
    _warn_unresolved(stack)  # after the verdict: an output that could not be checked says only why
    return EXIT_FAILED if outcome.failed else EXIT_OK


def _git_status(project: Path) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _check_against_base(args: argparse.Namespace, stack: Stack) -> int:
    """`check --base REF`: this tree's check, then its plan against REF's synth, rendered as
    the PR comment renders a preview."""
    import tempfile

    from infractl.ops.base_plan import base_tree, plan, resolve, synth_base
    from infractl.ops.engine_output import PolicyViolation
    from infractl.ops.preview_report import json_report, markdown_report, preview_context
    from infractl.policy.check import check_stack
    from infractl.resources_file import load_resources_json

    commit = resolve(stack.project, args.base)
    with tempfile.TemporaryDirectory(prefix="tbcoin-plan-") as tmp:
        out = args.out or Path(tmp) / "head"
        _, outcome = check_stack(stack, args.policy_config, args.timeout, out, args.charts)
        with base_tree(stack.project, commit) as tree:
            base = synth_base(tree, stack.name, Path(tmp) / "base", args.timeout * 5)
        head = load_resources_json(out / "resources.json")
    report = plan(base, head, f"{args.base} → this tree")
    pack = outcome.pack.split("@", 1)
    report.packs = {pack[0]: pack[-1]}
    report.violations = [
        PolicyViolation(v.policy, pack[0], v.enforcement, v.severity, v.urn, v.message)
        for v in outcome.violations
    ]
    context = preview_context(stack.project, None, None)
    context.engine = ""  # no engine ran
    context.dirty = bool(_git_status(stack.project))
    context.base = f"{args.base} ({commit[:12]})"
    reports = [(stack.name, report)]
    print(
        json_report(reports, context)
        if args.format == "json"
        else markdown_report(reports, context),
        end="",
    )
    _warn_unresolved(stack)
    return EXIT_FAILED if outcome.failed else EXIT_OK


def _policies_options(policies: argparse.ArgumentParser) -> None:
    policies.add_argument(
        "action",
        choices=["catalogue", "sync-config"],
        help="catalogue: print docs/reference/policies.md; sync-config: update each stack's "
        "policy config with the repositories the other stacks govern",
    )


def cmd_policies(args: argparse.Namespace) -> int:
    from infractl.policy.catalogue import catalogue_markdown, sync_policy_config
    from infractl.project import find_project

    project = find_project(Path.cwd())
    if args.action == "catalogue":
        print(catalogue_markdown(project), end="")
    else:
        for path in sync_policy_config(project):
            print(f"updated {path.relative_to(project)}")
    return EXIT_OK


def _explain_options(explain: argparse.ArgumentParser) -> None:
    explain.add_argument(
        "key",
        help="a config key as written in a stack file (services.api.strategy.analysis."
        "errorRatio, github.groups.<group>.branchRules.requiredApprovals) or a policy "
        "parameter (policy:<policy>.<parameter>)",
    )


def cmd_explain(args: argparse.Namespace) -> int:
    from infractl.explain import explain
    from infractl.project import find_project

    print(explain(args.key, find_project(Path.cwd())))
    return EXIT_OK


def _config_options(config: argparse.ArgumentParser) -> None:
    config.add_argument(
        "action",
        choices=["reference", "schema"],
        help="reference: print docs/reference/config.md; schema: print the JSON Schema of a "
        "stack file (docs/reference/stack-config.schema.json, for editors)",
    )


def cmd_config(args: argparse.Namespace) -> int:
    from infractl.explain import reference_markdown, stack_schema_json
    from infractl.project import find_project

    if args.action == "reference":
        print(reference_markdown(find_project(Path.cwd())), end="")
    else:
        print(stack_schema_json(), end="")
    return EXIT_OK


def _preview_report_options(report: argparse.ArgumentParser) -> None:
    report.add_argument(
        "--input",
        action="append",
        default=[],
        type=Path,
        help="output of `pulumi preview --json` (repeatable)",
    )
    report.add_argument(
        "--event-log",
        action="append",
        default=[],
        type=Path,
        help="an engine event log, `pulumi preview --event-log FILE` (repeatable)",
    )
    report.add_argument(
        "--stack",
        action="append",
        default=[],
        help="the stack of each input, in the order the inputs are given",
    )
    report.add_argument(
        "--format",
        choices=["markdown", "json"],
        default="markdown",
        help="markdown for the PR comment, json for tools",
    )
    report.add_argument(
        "--section",
        action="append",
        default=[],
        type=Path,
        help="Markdown file appended as a section of its own (e.g. `infractl scorecard` output)",
    )
    report.add_argument(
        "--commit", help="the commit previewed, for the comment (default: $GITHUB_SHA, else HEAD)"
    )
    report.add_argument(
        "--engine-version",
        help="the Pulumi CLI's version, for the comment (default: `pulumi version` if on PATH)",
    )
    report.add_argument(
        "--waivers-base",
        type=Path,
        metavar="DIR",
        help="a checkout of the base branch: say which policy waivers the change adds, "
        "changes or removes (the waivers are read from the project here)",
    )
    report.add_argument("--post", action="store_true", help="update the PR's sticky comment")
    report.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    report.add_argument("--pr", type=int, help="pull request number (with --post)")
    _author_argument(report)


def cmd_preview_report(args: argparse.Namespace) -> int:
    from infra.config.documents import DocumentError, read_document
    from infractl.ops.preview_report import (
        MARKER,
        failures,
        json_report,
        markdown_report,
        preview_context,
        read_reports,
    )

    if args.post and args.pr is None:
        raise UsageError("--post needs --pr")
    reports = read_reports([*args.input, *args.event_log], args.stack)
    context = preview_context(Path.cwd(), args.commit, args.engine_version)
    if args.format == "markdown":
        context.waivers = _waivers(reports, args.waivers_base)
    render = json_report if args.format == "json" else markdown_report
    body = render(reports, context)
    for section in args.section if args.format == "markdown" else []:
        try:
            body = body.rstrip("\n") + "\n\n" + read_document(section)
        except DocumentError as exc:
            raise UsageError(f"--section {section}: {exc}") from None
    if args.post:
        from infractl.ops.github_api import GitHubTarget, upsert_sticky_comment

        target = GitHubTarget.from_env(args.repo, args.author)
        outcome = upsert_sticky_comment(target, args.pr, body, MARKER)
        print(f"preview comment {outcome} on PR #{args.pr}", file=sys.stderr)
    print(body, end="")
    # A failed run is still shown (its errors and policy violations are what the reviewer
    # needs), but it is not a plan: the command fails as for unusable input.
    failed = failures(reports)
    if failed:
        print(f"infractl: preview-report: {failed}; not a complete plan", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _waivers(reports: list[Any], base: Path | None) -> dict[str, list[str]]:
    """Each stack's policy waivers part, when run in the project (a recorded preview read
    elsewhere has none to show)."""
    from infractl.ops.waiver_changes import preview_waivers
    from infractl.project import find_project
    from infractl.waivers import today

    try:
        project = find_project(Path.cwd())
    except UsageError:
        return {}
    return preview_waivers(reports, project, base, today())


def _drift_options(drift: argparse.ArgumentParser) -> None:
    drift.add_argument(
        "--stack",
        required=True,
        help="stack name: the engine's stack, and Pulumi.<stack>.yaml for drift.remediation",
    )
    drift.add_argument(
        "--input", type=Path, help="recorded `pulumi refresh --preview-only` output to read"
    )
    drift.add_argument(
        "--pending-input", type=Path, help="recorded `pulumi preview` output (pending changes)"
    )
    drift.add_argument(
        "--resources",
        type=Path,
        help="the synth's resources.json (the program's ignoreChanges, autoscaled workloads)",
    )
    drift.add_argument("--open-issue", action="store_true", help="open/update/close a drift issue")
    drift.add_argument(
        "--rulesets",
        action="store_true",
        help="also read each governed ruleset's enforcement and bypass actors from GitHub "
        "(GITHUB_TOKEN, GITHUB_API_URL): drift the provider does not report",
    )
    drift.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    _author_argument(drift)
    drift.add_argument(
        "--remediation-check",
        action="store_true",
        help="exit 0 if tbcoin-platform:drift.remediation allows `pulumi up --refresh` for this "
        "drift, 1 (with the reason) if not",
    )


def cmd_drift(args: argparse.Namespace) -> int:
    from infractl.ops import drift

    result = drift.command(
        drift.DriftRequest(
            stack=args.stack,
            input=args.input,
            pending_input=args.pending_input,
            resources=args.resources,
            remediation_check=args.remediation_check,
            open_issue=args.open_issue,
            repo=args.repo,
            author=args.author,
            rulesets=args.rulesets,
        )
    )
    print(result.output, end="")
    if result.note:
        print(result.note, file=sys.stderr)
    return result.exit_code


def _adopt_options(adopt: argparse.ArgumentParser) -> None:
    adopt.add_argument("--owner", required=True, help="the GitHub organisation")
    adopt.add_argument(
        "--repo",
        nargs="+",
        default=[],
        metavar="NAME",
        help="repositories to adopt; without it, list the organisation's repositories no stack "
        "governs (inventory.md)",
    )
    _stack_arguments(adopt)
    adopt.add_argument(
        "--group",
        action="append",
        default=[],
        help="a group of the stack's github.groups the adopted repositories join (repeatable)",
    )
    adopt.add_argument("--out", required=True, type=Path, help="output folder (must not exist)")
    adopt.add_argument(
        "--force", action="store_true", help="replace --out if an earlier adopt wrote it"
    )


def cmd_adopt(args: argparse.Namespace) -> int:
    from infractl.ops import adopt
    from infractl.ops.github_api import GitHubApi

    request = adopt.AdoptRequest(
        owner=adopt.checked_name("--owner", args.owner),
        repos=tuple(adopt.checked_name("--repo", r) for r in args.repo),
        stack=args.stack,
        out=args.out,
        groups=tuple(args.group),
        force=args.force,
        config_file=args.config_file,
    )
    print(adopt.command(request, GitHubApi.from_env()), end="")
    return EXIT_OK


def _rollout_options(rollout: argparse.ArgumentParser) -> None:
    rollout.add_argument(
        "action",
        choices=["status", "promote", "abort", "retry"],
        help="status: phase, step, weights (exit 1 when aborted or degraded); promote: past the "
        "current pause or the blue-green gate; abort: all traffic back to stable; retry: an "
        "aborted canary release again",
    )
    _stack_arguments(rollout)
    rollout.add_argument(
        "--service", required=True, help="a blue-green or canary service of the stack"
    )
    rollout.add_argument(
        "--full", action="store_true", help="promote: skip the remaining steps and analysis"
    )


def cmd_rollout(args: argparse.Namespace) -> int:
    from infra.config.services import BlueGreen, Canary
    from infractl.ops import rollouts
    from infractl.project import open_stack

    config = open_stack(args.stack, args.config_file).load()
    if args.full and args.action != "promote":
        raise UsageError("--full goes with promote only")
    target = rollouts.target(config, args.service)
    api = rollouts.Rollouts(target.context)
    if args.action == "promote":
        result = rollouts.promote(api, target, args.full)
    elif args.action == "abort":
        result = rollouts.abort(api, target)
    elif args.action == "retry":
        result = rollouts.retry(api, target)
    else:
        result = api.get(target)
    strategy = config.services[args.service].strategy
    floor = strategy.analysis.budget_floor if isinstance(strategy, Canary | BlueGreen) else None
    text, trouble = rollouts.summary(result, rollouts.analysis(api, target, result), floor)
    print(text)
    return EXIT_FAILED if trouble and args.action == "status" else EXIT_OK


def _waivers_options(waivers: argparse.ArgumentParser) -> None:
    waivers.add_argument(
        "--stack",
        action="append",
        default=[],
        help="a stack whose waivers to list (repeatable; default: every stack)",
    )
    waivers.add_argument(
        "--format", choices=["text", "markdown", "json"], default="text", help=FORMAT_HELP
    )
    waivers.add_argument(
        "--no-check",
        action="store_true",
        help="only read the files: skip the offline check that finds stale waivers",
    )
    waivers.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        help="seconds for the pack to start and answer (a finite number above 0)",
    )


def cmd_waivers(args: argparse.Namespace) -> int:
    from infractl.policy.waiver_survey import FORMATS, survey
    from infractl.project import find_project

    surveys = survey(
        find_project(Path.cwd()), args.stack, check=not args.no_check, timeout=args.timeout
    )
    print(FORMATS[args.format](surveys), end="")
    return EXIT_FAILED if any(s.failing for each in surveys for s in each.standings) else EXIT_OK


def _codeowners_options(codeowners: argparse.ArgumentParser) -> None:
    del codeowners  # no options: it prints the file


def cmd_codeowners(args: argparse.Namespace) -> int:
    from infra.config.codeowners import FILE, load_owners
    from infra.github.codeowners import codeowners_text
    from infractl.project import find_project

    owners = load_owners(find_project(Path.cwd()))
    header = (
        f"# Generated by `infractl codeowners` from {FILE}; do not edit. A test keeps it fresh."
    )
    print(codeowners_text(owners.lines(), header), end="")
    return EXIT_OK


@dataclass(frozen=True)
class Command:
    help: str
    options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# Every command: its one-line help, its options and its handler, in `--help` order.
COMMANDS = {
    "synth": Command(
        "run the program offline under Pulumi mocks and write what it declares",
        _synth_options,
        cmd_synth,
    ),
    "check": Command(
        "synthesize a stack and run the policy pack over it, offline", _check_options, cmd_check
    ),
    "scorecard": Command(
        "predict each governed repository's OpenSSF Scorecard from the declared settings",
        _scorecard_options,
        cmd_scorecard,
    ),
    "policies": Command("policy pack housekeeping", _policies_options, cmd_policies),
    "explain": Command(
        "what a config key does: its value, default, floor per stack and where each stack sets it",
        _explain_options,
        cmd_explain,
    ),
    "config": Command(
        "the config's generated reference and the JSON Schema of a stack file",
        _config_options,
        cmd_config,
    ),
    "preview-report": Command(
        "turn `pulumi preview --json` or event logs into a PR comment",
        _preview_report_options,
        cmd_preview_report,
    ),
    "drift": Command(
        "report drift (live vs state) apart from pending code changes (code vs state); "
        "exit 0 in sync, 1 drift, 2 error, 3 pending changes only, 4 drift and pending changes",
        _drift_options,
        cmd_drift,
    ),
    "adopt": Command(
        "read repositories that exist on GitHub (read-only) and write their config, import ids "
        "and what the first `up` changes",
        _adopt_options,
        cmd_adopt,
    ),
    "rollout": Command(
        "watch or steer a service's Argo Rollout in the stack's cluster",
        _rollout_options,
        cmd_rollout,
    ),
    "codeowners": Command(
        "print this repository's .github/CODEOWNERS, written from codeowners.yaml (the "
        "security owners review policies/waivers/)",
        _codeowners_options,
        cmd_codeowners,
    ),
    "waivers": Command(
        "list each stack's policy waivers and where they stand; exit 1 when any has expired "
        "or waives nothing (stale), 2 when a waivers file is malformed",
        _waivers_options,
        cmd_waivers,
    ),
}


def parser() -> argparse.ArgumentParser:
    """The whole command line; docs/reference/cli.md is generated from it."""
    top = argparse.ArgumentParser(prog="infractl", description=__doc__)
    top.add_argument("--version", action=_Version, help="print infractl's version and exit")
    commands = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="each has its own --help"
    )
    for name, command in COMMANDS.items():
        command.options(commands.add_parser(name, help=command.help, description=command.help))
    return top


# Their exit 1 means a finding (drift), so no failure may surface as a traceback's exit 1.
ENGINE_OUTPUT_COMMANDS = {"drift", "preview-report"}


def main(argv: Sequence[str] | None = None) -> int:
    from infractl.terminal import guarded_output

    # Whatever the command prints, a traceback and argparse's errors included, is redacted and
    # shown without control characters (infractl.terminal).
    with guarded_output():
        try:
            return _main(argv)
        except Exception:  # a bug: its traceback quotes values too, so it is printed in here
            import traceback

            traceback.print_exc()
            return EXIT_FAILED


def _main(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    from infra.config.user_error import UserError
    from infractl.signals import Stopped, stop_signals_raise

    try:
        with stop_signals_raise():
            return COMMANDS[args.command].run(args)
    except UserError as exc:
        print(exc.report(), file=sys.stderr)
        return exc.exit_code
    except Stopped as exc:
        import os

        # Everything started is stopped by now. Leave without finalizing the interpreter: the
        # mock engine's threads, tasks and event loops, cut mid-call, can crash gRPC's C core on
        # the way out (seen: SIGSEGV) or have Python print their tracebacks after our one line.
        print(f"infractl: {exc}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exc.exit_code)
    except Exception as exc:
        if args.command not in ENGINE_OUTPUT_COMMANDS:
            raise
        # A bug here must not read as "drift found" (exit 1): one line, exit 2.
        line = f"infractl: internal error ({type(exc).__name__}): {exc}".replace("\n", " ")
        print(line[:500], file=sys.stderr)
        return EXIT_USAGE


def run() -> None:
    """The `infractl` command. After a synth, the interpreter's own teardown (hundreds of SDK
    modules, the mock runtime's threads) takes ~0.4 s and does nothing a finished command needs:
    flush what was printed and leave without it."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`| head`); nothing left to tell it
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
