"""Run the policy pack over a synthesized stack: Configure, Analyze each resource, AnalyzeStack."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from infractl.policy.analyzer import analyzer_info, running_pack
from infractl.policy.config import configure_request, load_policy_config, merge_policy_config
from infractl.policy.requests import analyze_requests, analyze_stack_request
from infractl.project import Stack
from infractl.synth.harness import PROJECT, SynthResult

# Analyze calls kept in flight at once: enough to overlap both ends, few enough that no call
# waits in a queue long enough to hit its deadline on a large stack.
IN_FLIGHT = 8
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "unspecified",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


@dataclass(frozen=True, order=True)
class Violation:
    urn: str
    policy: str
    enforcement: str
    severity: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "enforcement": self.enforcement,
            "severity": self.severity,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass
class CheckResult:
    stack: str
    resources: int
    policies: int
    pack: str
    analyzer: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)
    # Policies the policy config turned off: the report says so, a clean run is not all-clear.
    disabled: list[str] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]


def _violation(diagnostic: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Violation:
    # The pack prefixes each message with the policy description; the report shows it once.
    message = diagnostic.message
    if message.startswith(diagnostic.description):
        message = message[len(diagnostic.description) :].strip() or diagnostic.description
    return Violation(
        urn=diagnostic.urn or urn,
        policy=diagnostic.policyName,
        enforcement=analyzer_pb2.EnforcementLevel.Name(diagnostic.enforcementLevel).lower(),
        severity=SEVERITIES.get(diagnostic.severity, "unspecified"),
        message=message,
    )


def pack_version(pack_dir: Path, announced: str) -> str:
    """The engine takes the version from PulumiPolicy.yaml; the Python SDK announces 0.0.1."""
    import yaml

    try:
        project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except FileNotFoundError:
        return announced
    return str(project.get("version") or announced)


def run_check(
    result: SynthResult,
    pack_dir: Path,
    policy_config: Path | None,
    stack_config: dict[str, str],
    secret_keys: list[str],
    timeout: float = 60.0,
) -> CheckResult:
    raw_config = load_policy_config(policy_config) if policy_config else {}
    started = time.perf_counter()
    with running_pack(
        pack_dir, project=PROJECT, stack=result.stack, config=stack_config, timeout=timeout
    ) as pack:
        ready = time.perf_counter()
        info = analyzer_info(pack)
        settings = merge_policy_config(
            str(policy_config or "defaults"), info, raw_config, result.stack
        )
        pack.stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=result.stack,
                project=PROJECT,
                organization="organization",
                dry_run=True,
                config=stack_config,
                config_secret_keys=secret_keys,
            ),
            timeout=timeout,
        )
        pack.stub.Configure(configure_request(settings), timeout=timeout)
        violations: list[Violation] = []
        # Analyze has no batch form; keep several calls in flight (the pack serves 4 at a time)
        # instead of paying one round trip per resource in turn.
        pending: deque[tuple[str, Any]] = deque()
        for request in analyze_requests(result.resources):
            pending.append((request.urn, pack.stub.Analyze.future(request, timeout=timeout)))
            if len(pending) >= IN_FLIGHT:
                urn, future = pending.popleft()
                violations += [_violation(d, urn) for d in future.result().diagnostics]
        for urn, future in pending:
            violations += [_violation(d, urn) for d in future.result().diagnostics]
        response = pack.stub.AnalyzeStack(analyze_stack_request(result.resources), timeout=timeout)
        violations += [_violation(d, "") for d in response.diagnostics]
        done = time.perf_counter()
        analyzer = {
            "pid": pack.process.pid,
            "port": pack.port,
            "command": pack.command,
            "seconds": {"start": round(ready - started, 3), "analyze": round(done - ready, 3)},
        }
    return CheckResult(
        stack=result.stack,
        resources=len(result.resources),
        policies=len(info.policies),
        pack=f"{info.name}@{pack_version(pack_dir, info.version)}",
        analyzer=analyzer,
        violations=sorted(set(violations)),
        disabled=sorted(name for name, s in settings.items() if s.enforcement == "disabled"),
    )


def check_stack(stack: Stack, policy_config: Path | None, timeout: float = 60.0) -> CheckResult:
    """Synthesize the stack and run the pack over it, with the stack's policy config
    (`policies/config/<stack>.json`) unless another is given."""
    from infractl.synth.harness import synthesize

    if policy_config is None:
        default = stack.project / "policies" / "config" / f"{stack.name}.json"
        policy_config = default if default.is_file() else None
    return run_check(
        synthesize(stack),
        stack.project / "policies",
        policy_config,
        stack.file.config,
        stack.file.secret_keys,
        timeout=timeout,
    )
