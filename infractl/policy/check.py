"""Run the policy pack over a synthesized stack: Configure, Analyze each resource, AnalyzeStack."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infractl.policy.analyzer import RunningPack, analyzer_info, running_pack
from infractl.policy.results import CheckResult, Violation
from infractl.project import PROJECT, Stack
from infractl.waivers import fingerprint, waived_by
from infractl.waivers import load as load_waivers

# The protocol modules, gRPC and jsonschema are imported by the functions that use them: a check
# starts the pack's process first, so their import overlaps its start-up.
if TYPE_CHECKING:
    from pulumi.runtime.proto import analyzer_pb2

    from infractl.synth.capture import Captured
    from infractl.synth.harness import SynthResult

# Analyze calls kept in flight at once: enough to overlap both ends, few enough that no call
# waits in a queue long enough to hit its deadline on a large stack.
IN_FLIGHT = 8


@dataclass
class AnalyzeMemo:
    """The answers of one running pack, by request, for `check --watch`: a resource whose Analyze
    request is byte for byte one the pack already answered, under the same Configure request,
    gets that answer again instead of a call. Policies are functions of what the request and the
    configuration carry (ConfigureStack's config is not one of them: pulumi_policy keeps only its
    tags, and the pack reads no stack config), so the answer is the one a call would give. Only
    the answers of the latest check are kept."""

    configuration: bytes = b""
    answers: dict[bytes, list[Violation]] = field(default_factory=dict)

    def lookup(self, configuration: bytes) -> dict[bytes, list[Violation]]:
        """The answers still valid under this configuration (the caller fills in the new ones
        and hands the result to `keep`)."""
        if configuration != self.configuration:
            self.configuration, self.answers = configuration, {}
        return self.answers

    def keep(self, answers: dict[bytes, list[Violation]]) -> None:
        self.answers = answers


def _severity(value: int) -> str:
    from pulumi.runtime.proto import analyzer_pb2

    try:
        return analyzer_pb2.PolicySeverity.Name(value).removeprefix("POLICY_SEVERITY_").lower()
    except ValueError:
        return "unspecified"


def _violation(diagnostic: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Violation:
    from pulumi.runtime.proto import analyzer_pb2

    # The pack prefixes each message with the policy description; the report shows it once.
    message = diagnostic.message
    if message.startswith(diagnostic.description):
        message = message[len(diagnostic.description) :].strip() or diagnostic.description
    return Violation(
        urn=diagnostic.urn or urn,
        policy=diagnostic.policyName,
        enforcement=analyzer_pb2.EnforcementLevel.Name(diagnostic.enforcementLevel).lower(),
        severity=_severity(diagnostic.severity),
        message=message,
        waiver=waived_by(message),
    )


def pack_version(pack_dir: Path, announced: str) -> str:
    """The engine takes the version from PulumiPolicy.yaml; the Python SDK announces 0.0.1."""
    import yaml

    try:
        project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except FileNotFoundError:
        return announced
    return str(project.get("version") or announced)


def _key(message: Any) -> bytes:
    # Struct values are maps: only a deterministic encoding makes equal requests equal bytes.
    key: bytes = message.SerializeToString(deterministic=True)
    return key


def analyze(
    pack: RunningPack,
    stack: str,
    resources: list[Captured],
    policy_config: Path | None,
    stack_config: Mapping[str, str],
    secret_keys: list[str],
    memo: AnalyzeMemo | None = None,
) -> CheckResult:
    """Configure a running pack for this stack and evaluate every resource, then the stack. One
    pack can check several stacks in turn: each check configures it afresh. With `memo`, requests
    the pack already answered under the same configuration are not sent again."""
    from pulumi.runtime.proto import analyzer_pb2

    from infractl.policy.config import configure_request, load_policy_config, merge_policy_config
    from infractl.policy.requests import analyze_requests, analyze_stack_request

    raw_config = load_policy_config(policy_config) if policy_config else {}
    timeout = pack.timeout
    info = analyzer_info(pack)
    started = time.perf_counter()
    settings = merge_policy_config(str(policy_config or "defaults"), info, raw_config, stack)
    pack.stub.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack,
            project=PROJECT,
            organization="organization",
            dry_run=True,
            config=stack_config,
            config_secret_keys=secret_keys,
        ),
        timeout=timeout,
    )
    configure = configure_request(settings)
    pack.stub.Configure(configure, timeout=timeout)
    # The pack's answers also depend on the stack's waivers file and the day.
    known = memo.lookup(_key(configure) + fingerprint(pack.pack_dir.parent, stack)) if memo else {}
    answers: dict[bytes, list[Violation]] = {}  # what the memo keeps of this check
    violations: list[Violation] = []

    def answer(key: bytes, found: list[Violation]) -> None:
        violations.extend(found)
        if memo:
            answers[key] = found

    # Analyze has no batch form; keep several calls in flight (the pack serves 4 at a time)
    # instead of paying one round trip per resource in turn.
    pending: deque[tuple[bytes, str, Any]] = deque()

    def settle(key: bytes, urn: str, future: Any) -> None:
        answer(key, [_violation(d, urn) for d in future.result().diagnostics])

    for request in analyze_requests(resources):
        key = _key(request) if memo else b""
        if key in known:
            answer(key, known[key])
            continue
        pending.append((key, request.urn, pack.stub.Analyze.future(request, timeout=timeout)))
        if len(pending) >= IN_FLIGHT:
            settle(*pending.popleft())
    for each in pending:
        settle(*each)
    stack_request = analyze_stack_request(resources)
    key = b"stack\0" + _key(stack_request) if memo else b""
    if key in known:
        answer(key, known[key])
    else:
        response = pack.stub.AnalyzeStack(stack_request, timeout=timeout)
        answer(key, [_violation(d, "") for d in response.diagnostics])
    if memo:
        memo.keep(answers)
    analyzer = {
        "pid": pack.process.pid,
        "port": pack.port,
        "command": pack.command,
        # start: how long this check waited for the pack to announce its port (start-up that
        # overlapped other work is not counted).
        "seconds": {
            "start": round(pack.waited, 3),
            "analyze": round(time.perf_counter() - started, 3),
        },
    }
    return CheckResult(
        stack=stack,
        resources=len(resources),
        policies=len(info.policies),
        pack=f"{info.name}@{pack_version(pack.pack_dir, info.version)}",
        analyzer=analyzer,
        violations=sorted(set(violations)),
        disabled=sorted(name for name, s in settings.items() if s.enforcement == "disabled"),
    )


def start_pack(stack: Stack, timeout: float) -> AbstractContextManager[RunningPack]:
    """The project's pack, started for this stack (it serves once its port is read)."""
    return running_pack(
        stack.project / "policies",
        project=PROJECT,
        stack=stack.name,
        config=stack.file.config,
        timeout=timeout,
    )


def default_policy_config(stack: Stack) -> Path:
    # Required: without it every policy would run at its weakest default.
    return stack.project / "policies" / "config" / f"{stack.name}.json"


def check_resources(
    pack: RunningPack,
    stack: Stack,
    resources: list[Captured],
    policy_config: Path | None,
    charts: bool,
    memo: AnalyzeMemo | None = None,
) -> CheckResult:
    """Check a stack's resources; with `charts`, also the objects its Releases' charts render,
    judged against the project's chart baseline."""
    load_waivers(stack.project, stack.name)  # a malformed file: ConfigError (exit 2)
    chart_objects: dict[str, Captured] = {}
    if charts:
        from infractl.policy.charts import chart_resources, render_release

        chart_objects = chart_resources(resources, lambda r: render_release(r, stack.project))
    result = analyze(
        pack,
        stack.name,
        [*resources, *chart_objects.values()],
        policy_config or default_policy_config(stack),
        stack.file.config,
        stack.file.secret_keys,
        memo,
    )
    if charts:
        from infractl.policy.charts import BASELINE, judge

        judge(result, chart_objects, stack.project / BASELINE)
    return result


def check_stack(
    stack: Stack,
    policy_config: Path | None = None,
    timeout: float = 60.0,
    out: Path | None = None,
    charts: bool = False,
) -> tuple[str | None, CheckResult]:
    """Run the program once and check what it declares, with the stack's policy config
    (`policies/config/<stack>.json`) unless another is given. With `out`, also write the synth
    output there (as `infractl synth` does) and return its summary. The pack starts before the
    program runs, so its start-up is hidden behind the program's."""
    from infractl.synth.harness import run_program
    from infractl.synth.outdir import check_out
    from infractl.synth.render import write_output

    if out is not None:
        check_out(out, cwd=Path.cwd())  # refuse before spending time on a synth
    config = stack.load()
    load_waivers(stack.project, stack.name)  # refused before anything is written
    with start_pack(stack, timeout) as pack, ThreadPoolExecutor(1) as background:
        result = run_program(stack.name, stack.file, config)
        # The pack evaluates in its own process: write the output meanwhile.
        checking = background.submit(
            check_resources, pack, stack, result.resources, policy_config, charts
        )
        summary = write_output(result, out) if out is not None else None
        return summary, checking.result()


def check_output(
    stack: Stack,
    folder: Path,
    policy_config: Path | None = None,
    timeout: float = 60.0,
    charts: bool = False,
) -> CheckResult:
    """Check an existing synth output (`folder/resources.json`) without running the program."""
    load_waivers(stack.project, stack.name)
    with start_pack(stack, timeout) as pack:
        from infractl.synth.capture import read_resources

        return check_resources(pack, stack, read_resources(folder), policy_config, charts)


def run_check(
    result: SynthResult,
    pack_dir: Path,
    policy_config: Path | None,
    stack_config: dict[str, str],
    secret_keys: list[str],
    timeout: float = 60.0,
) -> CheckResult:
    """One check in a pack process of its own."""
    with running_pack(
        pack_dir, project=PROJECT, stack=result.stack, config=stack_config, timeout=timeout
    ) as pack:
        return analyze(
            pack, result.stack, result.resources, policy_config, stack_config, secret_keys
        )
