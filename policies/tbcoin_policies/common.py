"""Small helpers so each policy reads as: what it checks, why, how to fix it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)


@dataclass(frozen=True)
class Standard:
    """Where a rule comes from; shown in the catalogue and sent as the policy's framework."""

    name: str
    reference: str
    url: str

    def framework(self) -> PolicyComplianceFramework:
        return PolicyComplianceFramework(name=self.name, reference=self.reference)


def scorecard(check: str) -> Standard:
    return Standard(
        "OpenSSF Scorecard",
        check,
        f"https://github.com/ossf/scorecard/blob/main/docs/checks.md#{check.lower()}",
    )


def pod_security(control: str) -> Standard:
    return Standard(
        "Kubernetes Pod Security Standards (restricted)",
        control,
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
    )


def cis_kubernetes(section: str, title: str) -> Standard:
    return Standard(
        "CIS Kubernetes Benchmark",
        f"{section} {title}",
        "https://www.cisecurity.org/benchmark/kubernetes",
    )


def project_rule(reference: str) -> Standard:
    return Standard(
        "tbcoin-platform", reference, "https://github.com/tbcoin/tbcoin-platform#readme"
    )


# The parameters' defaults: the floor of prod (the stack whose floor a stack without one gets),
# written from the one table of minimums (infra/config/floor.py, which the pack may not import)
# by `infractl policies sync-config`; a test keeps the file fresh.
DEFAULTS_FILE = Path(__file__).with_name("defaults.json")
_DEFAULTS: dict[str, dict[str, Any]] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))


def floor_default(policy: str, parameter: str) -> Any:
    """The default of a parameter the floor table sets."""
    return _DEFAULTS[policy][parameter]


@dataclass(frozen=True)
class Waivable:
    """A waiver (policies/waivers/<stack>.json) may excuse this policy's violations: `why` says
    when an exception can be acceptable."""

    why: str


@dataclass(frozen=True)
class NotWaivable:
    """No waiver may excuse this policy: `why` says what an expiry date could not undo. `floor`
    names the rows of the config floor (infra/config/floor.py) that hold the same minimum: the
    floor is never waivable."""

    why: str
    floor: tuple[str, ...] = ()


Waivability = Waivable | NotWaivable

# Every policy's metadata, for the generated catalogue (docs/reference/policies.md).
CATALOGUE: dict[str, dict[str, Any]] = {}

ResourceCheck = Callable[[ResourceValidationArgs, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[list[PolicyResource], Mapping[str, Any]], Iterable[tuple[str, str]]]


def _register(
    name: str,
    area: str,
    kind: str,
    description: str,
    severity: Severity,
    standard: Standard,
    remediation: str,
    properties: dict[str, dict[str, Any]] | None,
    waiver: Waivability,
) -> None:
    CATALOGUE[name] = {
        "area": area,
        "kind": kind,
        "description": description,
        "severity": severity.value,
        "standard": standard,
        "remediation": remediation,
        "properties": properties or {},
        "waivable": isinstance(waiver, Waivable),
        "waiver": waiver.why,
        "floor": waiver.floor if isinstance(waiver, NotWaivable) else (),
    }


def _metadata(
    area: str,
    severity: Severity,
    standard: Standard,
    remediation: str,
    properties: dict[str, dict[str, Any]] | None,
) -> dict[str, Any]:
    """What every policy tells the engine besides its check: level, severity, source, fix."""
    return {
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": severity,
        "framework": standard.framework(),
        "remediation_steps": remediation,
        "url": standard.url or None,
        "tags": [area],
        "config_schema": PolicyConfigSchema(properties) if properties else None,
    }


def resource_policy(
    name: str,
    *,
    area: str,
    description: str,
    severity: Severity,
    standard: Standard,
    remediation: str,
    types: tuple[str, ...],
    check: ResourceCheck,
    waiver: Waivability,
    properties: dict[str, dict[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    _register(
        name, area, "resource", description, severity, standard, remediation, properties, waiver
    )

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        for problem in check(args, args.get_config() or {}):
            report(f"{problem} Fix: {remediation}", None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        **_metadata(area, severity, standard, remediation, properties),
    )


def stack_policy(
    name: str,
    *,
    area: str,
    description: str,
    severity: Severity,
    standard: Standard,
    remediation: str,
    check: StackCheck,
    waiver: Waivability,
    properties: dict[str, dict[str, Any]] | None = None,
) -> StackValidationPolicy:
    _register(name, area, "stack", description, severity, standard, remediation, properties, waiver)

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for problem, urn in check(list(args.resources), args.get_config() or {}):
            report(f"{problem} Fix: {remediation}", urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        **_metadata(area, severity, standard, remediation, properties),
    )


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """Nested lookup that tolerates missing keys, lists too short and None on the way."""
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return default
        if value is None:
            return default
    return value


def namespace_of(r: PolicyResource) -> str:
    """The Kubernetes namespace of a resource, as the API server would default it."""
    return str(dig(r.props, "metadata", "namespace", default="default"))


def of_type(resources: list[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def labels_match(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
