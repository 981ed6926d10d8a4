"""`infractl drift`: drift (refresh --preview-only) apart from pending code (preview), ranked by the
severity table, controller-owned fields as expected, one self-maintaining issue per stack, and
the remediation gate.

The prod refresh and preview inputs are constructed, not recorded (tests/engine_outputs/README.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from infractl.ops.drift import (
    EXIT_DRIFT,
    EXIT_DRIFT_AND_PENDING,
    EXIT_IN_SYNC,
    EXIT_PENDING,
    History,
    analyse,
    drift_markdown,
    marker,
    read_program,
    remediation_refusal,
)
from infractl.ops.engine_output import Change, PropertyDiff, parse_engine_output
from infractl.ops.github_api import GitHubApi, GitHubTarget, sync_drift_issue
from infractl.ops.severity import EXPECTED, Classifier, Program, RulesError, load_rules
from tests.conftest import REPO as CHECKOUT
from tests.conftest import heavy_imports, infractl, vendored
from tests.gfm import assert_inert
from tests.github_standin import GitHub

HERE = Path(__file__).parent
CONSTRUCTED = HERE / "engine_outputs"
REFRESH = CONSTRUCTED / "refresh-preview-only-prod.constructed.jsonl"
PENDING = CONSTRUCTED / "preview-prod.constructed.jsonl"
RESOURCES = CONSTRUCTED / "resources-prod.constructed.json"
GOLDEN = HERE / "golden" / "drift-prod.md"
VENDORED_REFRESH = vendored(
    "pulumi-engine-outputs",
    "pulumi-lifecycle-TestRefreshBasics-all-0-0-preview--eventstream.json",
)
# A real no-change preview of prod (make e2e --record).
QUIET_LOG = HERE / "engine_outputs" / "recorded" / "prod-drift-preview.jsonl"
QUIET = QUIET_LOG.read_text()


def _prod_report():  # type: ignore[no-untyped-def]
    refresh = parse_engine_output("refresh", REFRESH.read_text())
    pending = parse_engine_output("preview", PENDING.read_text())
    return analyse("prod", refresh, pending, read_program(RESOURCES))


def test_ranked_report_matches_its_golden_markdown(recording: bool) -> None:
    run = infractl(
        "drift", "--stack", "prod", "--input", REFRESH, "--pending-input", PENDING,
        "--resources", RESOURCES,
    )  # fmt: skip
    if recording:
        GOLDEN.write_text(run.stdout)
    assert run.stdout == GOLDEN.read_text()
    assert run.code == EXIT_DRIFT_AND_PENDING, run.stderr
    # The constructed repository description carries mentions, HTML, an image and backticks.
    assert "@tbcoin/admins" in run.stdout
    assert_inert(run.stdout)


def test_report_lists_critical_first_and_keeps_expected_and_pending_apart() -> None:
    report = _prod_report()
    severities = [f.severity for f in report.findings]
    assert severities == sorted(severities, key=["critical", "high", "low"].index)
    assert report.counts() == {"critical": 5, "high": 3, "low": 2}
    expected = {(f.name, f.path) for f in report.expected}
    assert expected == {
        ("tbcoin-engine-ml", "vulnerabilityAlerts"),  # the program's ignoreChanges
        ("tbcoin-prod-deployment-inference-stable", "spec.replicas"),  # autoscaled
        ("namespace-tbcoin-prod", 'metadata.labels["kubernetes.io/metadata.name"]'),
    }
    assert [c.name for c in report.pending.changes] == ["tbcoin-prod-resourcequota-compute"]
    assert report.title() == "Drift in stack prod: critical (5 critical, 3 high, 2 low)"


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("refresh", "pending", "code"),
    [
        (QUIET, QUIET, EXIT_IN_SYNC),
        (None, QUIET, EXIT_DRIFT),
        (QUIET, None, EXIT_PENDING),
        (None, None, EXIT_DRIFT_AND_PENDING),
    ],
)
def test_exit_codes_tell_drift_from_pending_code(
    tmp_path: Path, refresh: str | None, pending: str | None, code: int
) -> None:
    args: list[str | Path] = [
        "--input", _write(tmp_path, "r.jsonl", refresh) if refresh else REFRESH,
        "--pending-input", _write(tmp_path, "p.jsonl", pending) if pending else PENDING,
    ]  # fmt: skip
    run = infractl("drift", "--stack", "prod", *args)
    assert run.code == code, run.stderr


def test_vendored_refresh_preview_is_drift_with_unclassified_properties_high() -> None:
    run = infractl("drift", "--stack", "test", "--input", VENDORED_REFRESH)
    assert run.code == EXIT_DRIFT, run.stderr
    assert "🟠 3 high" in run.stdout
    assert "not classified in infractl/ops/drift\\_rules.toml" in run.stdout
    assert "ignoreChanges and autoscaling were not consulted" in run.stdout


def test_without_input_or_cli_it_says_what_is_missing() -> None:
    run = infractl("drift", "--stack", "prod", env={"PATH": "/usr/bin:/bin"})
    assert run.code == 2
    assert "the pulumi CLI is not on PATH; pass --input" in run.stderr


@pytest.mark.parametrize("stack", ["prod; rm -rf /", "../prod", "@team", "", ".hidden"])
def test_a_stack_name_that_is_not_one_is_refused(stack: str) -> None:
    run = infractl("drift", "--stack", stack, "--input", VENDORED_REFRESH)
    assert run.code == 2 and "is not a stack name (1-100 letters" in run.stderr


# --- severity: each mutation lands where the table says -------------------------------------

RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
REPO = "github:index/repository:Repository"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ACTIONS = "github:index/actionsRepositoryPermissions:ActionsRepositoryPermissions"
WORKFLOW = "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions"
MUTATIONS: list[tuple[str, str, str, Any, Any, str]] = [
    ("bypass actor added", RULESET, "bypassActors[0]", None,
     {"actorId": 5, "actorType": "RepositoryRole", "bypassMode": "always"}, "critical"),
    ("enforcement to evaluate", RULESET, "enforcement", "active", "evaluate", "critical"),
    ("approvals lowered", RULESET, "rules.pullRequest.requiredApprovingReviewCount", 2, 1,
     "critical"),
    ("approvals raised", RULESET, "rules.pullRequest.requiredApprovingReviewCount", 2, 3, "low"),
    ("code owner review off", RULESET, "rules.pullRequest.requireCodeOwnerReview", True, False,
     "critical"),
    ("required check removed", RULESET, "rules.requiredStatusChecks.requiredChecks[2].context",
     "Dependency Review", None, "critical"),
    ("secret scanning off", REPO, "securityAndAnalysis.secretScanning.status", "enabled",
     "disabled", "critical"),
    ("push protection off", REPO, "securityAndAnalysis.secretScanningPushProtection.status",
     "enabled", "disabled", "critical"),
    ("made public", REPO, "visibility", "private", "public", "critical"),
    ("all actions allowed", ACTIONS, "allowedActions", "selected", "all", "critical"),
    ("workflow token write", WORKFLOW, "defaultWorkflowPermissions", "read", "write", "critical"),
    ("environment reviewers", "github:index/repositoryEnvironment:RepositoryEnvironment",
     "reviewers[0].teams[0]", 1, None, "critical"),
    ("workflow file edited", "github:index/repositoryFile:RepositoryFile", "content", "a", "b",
     "critical"),
    ("network policy opened", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
     "spec.policyTypes[1]", "Egress", None, "critical"),
    ("pod security lowered", "kubernetes:core/v1:Namespace",
     'metadata.labels["pod-security.kubernetes.io/enforce"]', "restricted", "privileged",
     "critical"),
    ("role binding changed", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
     "subjects[0].name", "a", "b", "critical"),
    ("privileged container", DEPLOYMENT,
     "spec.template.spec.containers[0].securityContext.privileged", False, True, "critical"),
    ("replicas changed", DEPLOYMENT, "spec.replicas", 3, 1, "high"),
    ("image changed", DEPLOYMENT, "spec.template.spec.containers[0].image", "a@sha256:1", "b:x",
     "high"),
    ("limits changed", DEPLOYMENT, "spec.template.spec.containers[0].resources.limits.cpu", "1",
     "2", "high"),
    ("probe changed", DEPLOYMENT,
     "spec.template.spec.containers[0].readinessProbe.periodSeconds", 10, 60, "high"),
    ("unknown property", DEPLOYMENT, "spec.minReadySeconds", 0, 30, "high"),
    ("label description changed", "github:index/issueLabels:IssueLabels",
     "labels[0].description", "Dependency updates", "Deps", "low"),
    ("repository description", REPO, "description", "x", "y", "low"),
    ("topics", REPO, "topics[1]", "fastapi", "flask", "low"),
    ("kubernetes label", DEPLOYMENT, 'metadata.labels["team"]', "a", "b", "low"),
]  # fmt: skip


def _change(type_: str, path: str, old: Any, new: Any, op: str = "update") -> Change:
    urn = f"urn:pulumi:prod::tbcoin-platform::{type_}::thing"
    diffs = [PropertyDiff(path, "update", old, new)] if path else []
    return Change(urn, type_, op, diffs)


@pytest.mark.parametrize(("what", "type_", "path", "old", "new", "severity"), MUTATIONS,
                         ids=[m[0] for m in MUTATIONS])  # fmt: skip
def test_mutation_lands_in_its_severity(
    what: str, type_: str, path: str, old: Any, new: Any, severity: str
) -> None:
    (finding,) = Classifier(Program()).classify(_change(type_, path, old, new))
    assert finding.severity == severity, (what, finding.why)
    assert finding.why


def test_deletions_protected_is_critical_other_is_high() -> None:
    classifier = Classifier(Program(protected={f"urn:pulumi:prod::tbcoin-platform::{REPO}::thing"}))
    (repo,) = classifier.classify(_change(REPO, "", None, None, "delete"))
    (deployment,) = classifier.classify(_change(DEPLOYMENT, "", None, None, "delete"))
    assert (repo.severity, deployment.severity) == ("critical", "high")
    assert repo.why == "a protected resource is gone"


def test_a_coarse_diff_is_ranked_by_its_most_specific_leaves() -> None:
    old = {"replicas": 3, "template": {"spec": {"securityContext": {"runAsNonRoot": True}}}}
    new = {"replicas": 3, "template": {"spec": {"securityContext": {"runAsNonRoot": False}}}}
    (finding,) = Classifier(Program()).classify(_change(DEPLOYMENT, "spec", old, new))
    assert (finding.path, finding.severity) == (
        "spec.template.spec.securityContext.runAsNonRoot",
        "critical",
    )


def test_secrets_are_redacted() -> None:
    classifier = Classifier(Program())
    (secret,) = classifier.classify(_change("kubernetes:core/v1:Secret", "data.x", "c2Vj", "bmV3"))
    (named,) = classifier.classify(_change(REPO, "template.adminPassword", "hunter2", "x"))
    (marked,) = classifier.classify(_change(REPO, "description", "[secret]", "x"))
    assert [(f.old, f.new) for f in (secret, named, marked)] == [("[secret]", "[secret]")] * 3


def test_the_rules_table_loads_and_rejects_a_bad_entry(tmp_path: Path) -> None:
    severity, expected = load_rules()
    assert len(severity) > 30 and len(expected) > 5
    bad = tmp_path / "rules.toml"
    bad.write_text('[[severity]]\ntype = "*"\npath = ""\nseverity = "medium"\nwhy = "x"\n')
    with pytest.raises(RulesError, match="severity must be one of critical, high, low"):
        load_rules(bad)


# --- expected changes from the program's own synth ----------------------------------------------


def test_the_synths_own_ignore_changes_and_autoscalers_make_changes_expected(
    synthesized: Any,
) -> None:
    resources = json.loads((synthesized("prod") / "resources.json").read_text())
    program = Program.from_resources(resources)
    repo = next(r for r in resources if r["type"] == REPO)
    assert "vulnerabilityAlerts" in repo["options"]["ignoreChanges"]
    # Services whose selector the Argo Rollouts controller owns say so with ignoreChanges.
    service = next(
        r for r in resources
        if r["type"] == "kubernetes:core/v1:Service"
        and "spec.selector" in r["options"].get("ignoreChanges", [])
    )  # fmt: skip
    targets = {
        (
            r["inputs"]["spec"]["scaleTargetRef"]["kind"],
            r["inputs"]["spec"]["scaleTargetRef"]["name"],
        )
        for r in resources
        if r["type"] == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
    }
    autoscaled = next(
        r
        for r in resources
        if (r["inputs"].get("kind"), r["inputs"].get("metadata", {}).get("name")) in targets
    )
    cases = [
        (repo, "vulnerabilityAlerts", EXPECTED),
        (service, 'spec.selector["tbcoin.io/track"]', EXPECTED),
        (autoscaled, "spec.replicas", EXPECTED),
        (autoscaled, "spec.template.spec.containers[0].image", "high"),
    ]
    for resource, path, severity in cases:
        change = Change(resource["urn"], resource["type"], "update",
                        [PropertyDiff(path, "update", "a", "b")])  # fmt: skip
        (finding,) = Classifier(program).classify(change)
        assert finding.severity == severity, (resource["name"], path, finding.why)
    # Mutation: without the program's view, the ignored and autoscaled ones are drift.
    for resource, path in ((repo, "vulnerabilityAlerts"), (autoscaled, "spec.replicas")):
        change = Change(resource["urn"], resource["type"], "update",
                        [PropertyDiff(path, "update", 3, 7)])  # fmt: skip
        (blind,) = Classifier(Program()).classify(change)
        assert blind.severity != EXPECTED


# --- the issue: one per stack, updated in place, history, closes itself ------------------------


def _issue_sync(github: GitHub, report: Any, now: str, token: str = "token") -> str:
    def update(previous: str | None) -> tuple[str, str] | None:
        history, _ = History.decode(previous)
        body = drift_markdown(report, history.advance(report, now))
        return (report.title(), body) if report.findings else None

    target = GitHubTarget(github.repo, GitHubApi(token, github.base))
    return sync_drift_issue(target, marker(report.stack), update)


def test_drift_issue_tells_the_story_and_closes_itself(github: GitHub) -> None:
    full = _prod_report()
    smaller = analyse("prod", full.drift, None, read_program(RESOURCES))
    smaller.findings = full.findings[1:]
    clean = analyse("prod", parse_engine_output("q", QUIET), None, None)
    assert _issue_sync(github, smaller, "2026-11-26 05:17 UTC") == "opened"
    assert _issue_sync(github, full, "2026-11-27 05:17 UTC") == "updated"
    (issue,) = github.issues.values()
    assert issue["title"] == full.title()
    history, note = History.decode(issue["body"])
    assert note == ""
    first = full.findings[0]
    assert history.first_seen[first.key] == "2026-11-27 05:17 UTC"
    assert history.first_seen[full.findings[1].key] == "2026-11-26 05:17 UTC"
    assert [r[0] for r in history.runs] == ["2026-11-26 05:17 UTC", "2026-11-27 05:17 UTC"]
    assert "| 2026-11-26 05:17 UTC |" in issue["body"]
    assert _issue_sync(github, clean, "2026-11-28 05:17 UTC") == "closed"
    assert issue["state"] == "closed"
    assert _issue_sync(github, clean, "2026-11-29 05:17 UTC") == "nothing to do"


def test_an_issue_by_someone_else_carrying_the_marker_is_ignored(github: GitHub) -> None:
    report = _prod_report()
    assert _issue_sync(github, report, "now", token="other") == "opened"  # mallory's
    assert _issue_sync(github, report, "now") == "opened"  # ours, beside it
    assert _issue_sync(github, report, "later") == "updated"
    owners = sorted(i["user"] for i in github.issues.values())
    assert owners == ["infra-bot", "mallory"]


def test_a_tampered_history_starts_again_with_a_note() -> None:
    history, note = History.decode(
        f"{marker('prod')}\n<!-- tbcoin-platform:drift-state:bm90anNvbg== -->"
    )
    assert (history.first_seen, note) == (
        {},
        "the earlier history could not be read and starts again",
    )


def test_open_issue_through_the_cli_with_the_actions_token(github: GitHub) -> None:
    github.tokens["actions"] = None  # GET /user is refused, as for the Actions token
    env = {"GITHUB_TOKEN": "actions", "GITHUB_API_URL": github.base}
    args = ["drift", "--stack", "prod", "--input", REFRESH, "--open-issue", "--repo", github.repo]
    refused = infractl(*args, env=env)
    assert refused.code == 2 and len(refused.stderr.splitlines()) == 1
    assert "pass --author LOGIN (for the Actions token: github-actions[bot])" in refused.stderr
    run = infractl(*args, "--author", "github-actions[bot]", env=env)
    assert run.code == EXIT_DRIFT, run.stderr
    assert "drift issue: opened" in run.stderr
    (issue,) = github.issues.values()
    assert issue["user"] == "github-actions[bot]" and "critical" in issue["title"]


def test_an_api_error_is_one_line_and_exit_2(github: GitHub) -> None:
    github.failures[f"/repos/{github.repo}/issues"] = 502
    env = {"GITHUB_TOKEN": "token", "GITHUB_API_URL": github.base}
    run = infractl(
        "drift", "--stack", "prod", "--input", REFRESH, "--open-issue", "--repo", github.repo,
        env=env,
    )  # fmt: skip
    assert run.code == 2
    assert run.stderr.splitlines() == [
        f"infractl: GitHub API: syncing the drift issue of {github.repo} failed with 502: "
        "Injected failure"
    ]
    assert "token" not in run.stderr.replace("the token", "")


# --- remediation -------------------------------------------------------------------------------


def test_remediation_is_refused_for_critical_pending_or_above_the_switch() -> None:
    full = _prod_report()
    program = read_program(RESOURCES)
    low_only = analyse("prod", full.drift, None, program)
    low_only.findings = [f for f in full.findings if f.severity == "low"]
    high = analyse("prod", full.drift, None, program)
    high.findings = [f for f in full.findings if f.severity != "critical"]
    critical = analyse("prod", full.drift, None, program)
    assert "never remediated automatically" in remediation_refusal(critical, "high")
    assert "pending as well" in remediation_refusal(full, "high")
    assert "off for this stack" in remediation_refusal(low_only, "off")
    assert "above what this stack allows (low)" in remediation_refusal(high, "low")
    assert remediation_refusal(low_only, "low") == ""
    assert remediation_refusal(high, "high") == ""


def test_remediation_check_reads_the_stack_switch() -> None:
    run = infractl("drift", "--stack", "prod", "--input", REFRESH, "--remediation-check")
    assert run.code == 1
    assert run.stdout.startswith("remediation refused for stack prod: remediation is off")


def test_remediation_workflow_is_manual_gated_and_checks_before_up() -> None:
    import yaml

    workflow = yaml.safe_load((CHECKOUT / ".github/workflows/drift-remediation.yml").read_text())
    assert set(workflow[True]) == {"workflow_dispatch"}  # YAML reads `on:` as True
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "${{ inputs.stack == 'prod' && 'production' || 'staging' }}"
    runs = [step.get("run", "") for step in job["steps"]]
    check = next(i for i, r in enumerate(runs) if "--remediation-check" in r)
    up = next(i for i, r in enumerate(runs) if "pulumi up" in r)
    assert check < up and "--refresh" in runs[up]


def test_the_remediation_switch_has_no_critical_value(mutated_stack: Any, tmp_path: Path) -> None:
    def allow_critical(config: dict[str, Any]) -> None:
        config["tbcoin-platform:drift"] = {"remediation": "critical"}

    run = infractl("synth", "--stack", "prod", "--config-file", mutated_stack(allow_critical),
                   "--out", tmp_path / "out")  # fmt: skip
    assert run.code == 2
    assert (
        "tbcoin-platform:drift.remediation" in run.stderr and "'off', 'low' or 'high'" in run.stderr
    )


def test_recorded_drift_imports_no_pulumi_or_github_sdk() -> None:
    args: list[str | Path] = ["drift", "--stack", "prod", "--input", REFRESH, "--resources",
                              RESOURCES]  # fmt: skip
    sdks = ("pulumi", "pulumi_github", "pulumi_kubernetes", "github")
    assert heavy_imports(args, sdks) == (1, [])


def test_a_bug_while_reporting_is_exit_2_never_drift(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infractl import cli
    from infractl.ops import drift

    def broken(*args: Any) -> Any:
        raise KeyError("a field\nthe parser did not expect")

    monkeypatch.setattr(drift, "analyse", broken)
    assert cli.main(["drift", "--stack", "prod", "--input", str(REFRESH)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infractl: internal error (KeyError)") and len(err.splitlines()) == 1


def test_drift_runs_the_cli_with_event_log_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real CLI (v3.274.0) knows `--event-log` only under PULUMI_DEBUG_COMMANDS=true; without
    it every run failed with "unknown flag" (make e2e checks the real CLI does so)."""
    from infractl.ops.drift import run_refresh_preview

    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        '[ "$PULUMI_DEBUG_COMMANDS" = true ] || '
        '{ echo "error: unknown flag: --event-log" >&2; exit 1; }\n'
        'while [ "$1" != --event-log ]; do shift; done\n'
        f'cp {QUIET_LOG} "$2"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.delenv("PULUMI_DEBUG_COMMANDS", raising=False)
    report = run_refresh_preview(tmp_path, "prod")
    # Everything the recorded run held, unchanged (its summary's count).
    assert report.summary == {"same": 65}


# --- ruleset drift the provider cannot see (REST API, on the GitHub API stand-in) ---------------


def _live_ruleset(github: GitHub, enforcement: str, bypass: list[dict[str, Any]]) -> None:
    from tests.github_standin import documented

    repo = "/repos/tbcoin/tbcoin-engine-ml"
    whole = documented("/repos/{owner}/{repo}/rulesets/{ruleset_id}")
    whole.update(
        id=9, name="default-branch", target="branch", enforcement=enforcement,
        bypass_actors=bypass, conditions={"ref_name": {"include": ["~DEFAULT_BRANCH"],
                                                       "exclude": []}},
    )  # fmt: skip
    github.set(
        f"{repo}/rulesets",
        [
            {
                k: whole[k]
                for k in ("id", "name", "target", "enforcement", "node_id", "source", "source_type")
            }
        ],
    )
    github.set(f"{repo}/rulesets/9", whole)


def _ruleset_drift(github: GitHub, tmp_path: Path) -> Any:
    quiet = tmp_path / "quiet.jsonl"
    quiet.write_text(QUIET)
    env = {"GITHUB_TOKEN": "token", "GITHUB_API_URL": github.base}
    return infractl("drift", "--stack", "prod", "--input", quiet, "--rulesets", env=env)


def test_a_bypass_actor_added_in_the_ui_is_critical_drift(github: GitHub, tmp_path: Path) -> None:
    actor = {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}
    _live_ruleset(github, "evaluate", [actor])
    run = _ruleset_drift(github, tmp_path)
    assert run.code == EXIT_DRIFT, run.stderr
    rows = [line for line in run.stdout.splitlines() if "tbcoin-engine-ml-default-branch" in line]
    assert len(rows) == 2 and all("critical" in row for row in rows)
    assert any(
        "`bypassActors[0]`" in r and "who may bypass the branch rules changed" in r for r in rows
    )
    assert any("`enforcement`" in r and '`"evaluate"`' in r for r in rows)


def test_mutation_the_declared_ruleset_live_is_no_drift(github: GitHub, tmp_path: Path) -> None:
    """The findings above come from the difference: the same ruleset as declared is quiet."""
    _live_ruleset(github, "active", [])
    run = _ruleset_drift(github, tmp_path)
    assert run.code == EXIT_IN_SYNC, run.stdout + run.stderr


def test_bypass_actors_a_token_cannot_read_are_said(github: GitHub, tmp_path: Path) -> None:
    _live_ruleset(github, "active", [])
    whole = github.answers[("GET", "/repos/tbcoin/tbcoin-engine-ml/rulesets/9")].body
    del whole["bypass_actors"]
    run = _ruleset_drift(github, tmp_path)
    assert run.code == EXIT_IN_SYNC
    assert "the token cannot read bypass actors" in run.stdout
