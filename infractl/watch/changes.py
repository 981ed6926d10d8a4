"""What changed between two checks of a stack: resources added, removed and changed, violations
new and gone, as `check --watch` prints it after each verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infractl.policy.results import CheckResult, Violation
from infractl.synth.capture import Captured

# Past this many lines of one kind, the rest is counted, not listed.
LISTED = 20


@dataclass(frozen=True)
class Snapshot:
    """One check, as the next one is compared with it."""

    resources: dict[str, Captured]
    violations: frozenset[Violation]

    @classmethod
    def of(cls, resources: list[Captured], result: CheckResult) -> Snapshot:
        return cls({r.urn: r for r in resources}, frozenset(result.violations))


def _declared(resource: Captured) -> dict[str, Any]:
    return {**resource.inputs, "(options)": resource.options}


def _changed_keys(before: Captured, after: Captured) -> list[str]:
    old, new = _declared(before), _declared(after)
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _resource(resource: Captured) -> str:
    return f"{resource.type} {resource.name}"


def _violation(v: Violation) -> str:
    where = v.urn.rsplit("::", 1)[-1] if v.urn else "(stack)"
    return f"[{v.enforcement}] {v.policy} ({v.severity}) on {where}: {v.message}"


def _listed(mark: str, lines: list[str]) -> list[str]:
    shown = [f"  {mark} {line}" for line in lines[:LISTED]]
    if len(lines) > LISTED:
        shown.append(f"  {mark} ... and {len(lines) - LISTED} more")
    return shown


def since(before: Snapshot, after: Snapshot) -> str:
    """The difference, in lines: a count line, then `+` added, `-` removed, `~` changed (with
    the inputs that changed; `(options)` for resource options), `new` and `gone` violations."""
    old, new = before.resources, after.resources
    added = [_resource(new[u]) for u in sorted(new.keys() - old.keys())]
    removed = [_resource(old[u]) for u in sorted(old.keys() - new.keys())]
    changed = [
        f"{_resource(new[u])}: {', '.join(keys)}"
        for u in sorted(new.keys() & old.keys())
        if (keys := _changed_keys(old[u], new[u]))
    ]
    appeared = sorted(after.violations - before.violations)
    gone = sorted(before.violations - after.violations)
    lines = [
        f"Since the last run: {len(added)} resource(s) added, {len(removed)} removed, "
        f"{len(changed)} changed; {len(appeared)} violation(s) new, {len(gone)} gone"
    ]
    lines += _listed("+", added) + _listed("-", removed) + _listed("~", changed)
    lines += _listed("new", [_violation(v) for v in appeared])
    lines += _listed("gone", [_violation(v) for v in gone])
    return "\n".join(lines)
