"""Small helpers so each policy reads as: what it checks, why, how to fix it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from pulumi_policy.proxy import UnknownValueError


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
    key: str,
) -> None:
    CATALOGUE[name] = {
        "key": key,
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
    key: str = "",
) -> ResourceValidationPolicy:
    """A policy over one resource of `types` at a time. `key` is the stack setting behind a
    violation (see `config_key`)."""
    _register(
        name,
        area,
        "resource",
        description,
        severity,
        standard,
        remediation,
        properties,
        waiver,
        key,
    )

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        try:
            for problem in check(args, args.get_config() or {}):
                report(f"{problem} Fix: {remediation}{config_key(key, args.props)}", None)
        except UnknownValueError as exc:
            report(unknown_in_preview(exc), None)

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
    types: tuple[str, ...],
    check: StackCheck,
    waiver: Waivability,
    properties: dict[str, dict[str, Any]] | None = None,
    key: str = "",
) -> StackValidationPolicy:
    """A policy over several resources. It is given only the resources of `types`: whatever
    else the stack holds (a Helm Release's status, a repository's computed ids) is never read,
    so a value unknown in preview there cannot stop it running."""
    _register(
        name, area, "stack", description, severity, standard, remediation, properties, waiver, key
    )

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        needed = [r for r in args.resources if r.resource_type in types]
        by_urn = {r.urn: r for r in needed}
        try:
            for problem, urn in check(needed, args.get_config() or {}):
                props = by_urn[urn].props if urn in by_urn else {}
                report(f"{problem} Fix: {remediation}{config_key(key, props)}", urn)
        except UnknownValueError as exc:
            report(unknown_in_preview(exc), _holder(needed, exc.props))

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        **_metadata(area, severity, standard, remediation, properties),
    )


# What fills a config key's placeholders: the resource's own properties (a GitHub resource
# names its repository) or the labels the program puts on every Kubernetes object.
PLACEHOLDERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "repository": (("repository",), ("name",)),
    "service": (("metadata", "labels", "app.kubernetes.io/instance"),),
    "environment": (("metadata", "labels", "tbcoin.io/environment"),),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def config_key(template: str, props: Mapping[str, Any]) -> str:
    """The sentence naming the stack setting behind a violation of `props` (" Config key:
    tbcoin-platform:<key>."), the template's `{repository}`, `{service}` or `{environment}`
    filled from them; "" when it cannot be."""
    values = {}
    for name in _PLACEHOLDER.findall(template):
        try:
            found = next((v for p in PLACEHOLDERS[name] if (v := dig(props, *p))), None)
        except UnknownValueError:
            found = None
        if not isinstance(found, str) or not found:
            return ""
        values[name] = found
    return f" Config key: tbcoin-platform:{template.format(**values)}." if template else ""


def number(value: Any) -> str:
    """A number as users write it: `1`, not `1.0` (the engine sends every number as a float)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def counted(value: Any, noun: str) -> str:
    """`1 replica`, `2 replicas`."""
    return f"{number(value)} {noun}{'' if number(value) == '1' else 's'}"


def unknown_in_preview(exc: UnknownValueError) -> str:
    """A value the policy needs is unknown until `pulumi up` computes it. pulumi_policy would
    turn this into an advisory "can't run policy" note that gates nothing; here it is a
    violation at the policy's own level, so the preview says plainly what could not be judged."""
    path = ".".join(exc.props)
    return (
        f"Cannot be checked before apply: {exc.message.replace(f'.{path}', f'`{path}`')}, and "
        "this policy needs it. Fix: set it from config in the program (not from another "
        "resource's output), so the preview can judge it."
    )


def _holder(resources: list[PolicyResource], path: list[str]) -> str | None:
    """The URN of the resource whose property at `path` is the unknown one (None: the stack)."""
    for r in resources:
        value: Any = r.props
        try:
            for key in path:
                value = value[int(key)] if isinstance(value, Sequence) else value[key]
        except UnknownValueError:
            return r.urn
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return None


def known(r: PolicyResource, *keys: str) -> dict[str, Any]:
    """The resource's properties `keys` (those it has) as plain data. Reading an unknown value
    inside them raises UnknownValueError: a caller states which properties it relies on."""
    return {key: _plain(r.props[key]) for key in keys if key in r.props}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(value[i]) for i in range(len(value))]
    return value


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
