"""The Kubernetes policies over the objects the pinned charts would install.

Each rendered object goes to the real pack as the resource the Kubernetes provider would register
(`kubernetes:<group/version>:<Kind>`, parented to its Release), checked together with the stack's
own resources so stack policies see them in context. What the pack reports against chart objects
is compared with the reviewed baseline (policies/chart-baseline.yaml): one reason per accepted
(release, object, policy); anything new fails, and so does an entry nothing matches any more.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from infractl.policy.analyzer import RunningPack
from infractl.policy.check import analyze
from infractl.synth.capture import Captured, struct_of
from infractl.synth.harness import SynthResult
from tests.charts import HELM_RELEASE, Obj, describe, render_release
from tests.conftest import REPO

BASELINE = REPO / "policies" / "chart-baseline.yaml"
Key = tuple[str, str, str]  # (release, "Kind namespace/name", policy)


def resource_type(obj: Obj) -> str:
    """The provider's type token: the core group is spelled `core` (`v1` -> `core/v1`)."""
    api = obj["apiVersion"]
    return f"kubernetes:{api if '/' in api else 'core/' + api}:{obj['kind']}"


def chart_resources(
    result: SynthResult, render: Callable[[Obj], list[Obj]] = render_release
) -> dict[str, Captured]:
    """URN -> a chart object as a registered resource, for every Release the stack declares."""
    captured: dict[str, Captured] = {}
    for release in result.resources:
        if release.type != HELM_RELEASE:
            continue
        name = release.inputs["name"]
        for obj in render({"inputs": release.inputs}):
            kind = resource_type(obj)
            label = f"{name}:{describe(obj)}"
            urn = f"{release.urn.rsplit('::', 2)[0]}::{HELM_RELEASE}${kind}::{label}"
            captured[urn] = Captured(
                urn, kind, label, True, obj, {"parent": release.urn}, struct_of(obj)
            )
    return captured


def findings(
    pack: RunningPack, result: SynthResult, policy_config: Path, charts: dict[str, Captured]
) -> dict[Key, list[str]]:
    """(release, object, policy) -> the pack's messages, for chart objects only."""
    checked = analyze(
        pack, result.stack, [*result.resources, *charts.values()], policy_config, {}, []
    )
    found: dict[Key, list[str]] = {}
    for v in checked.violations:
        if v.urn in charts:
            release, _, obj = charts[v.urn].name.partition(":")
            found.setdefault((release, obj, v.policy), []).append(v.message)
    return found


def load_baseline(path: Path = BASELINE) -> dict[Key, str]:
    """Accepted findings -> the reviewed reason. A malformed entry is an error naming it."""
    document = yaml.safe_load(path.read_text()) or {}
    accepted: dict[Key, str] = {}
    for release, objects in document.items():
        for obj, policies in objects.items():
            for policy, reason in policies.items():
                if not isinstance(reason, str) or not reason.strip():
                    raise ValueError(f"{path.name}: {release} / {obj} / {policy}: no reason")
                accepted[(release, obj, policy)] = reason
    return accepted


def compare(found: dict[Key, list[str]], accepted: dict[Key, str], checked: set[str]) -> list[str]:
    """Problems: findings not in the baseline, and entries (for releases that were checked)
    that nothing matches any more."""
    new = [
        f"new finding: {release} {obj}: {policy}: {'; '.join(messages)}"
        for (release, obj, policy), messages in sorted(found.items())
        if (release, obj, policy) not in accepted
    ]
    stale = [
        f"stale baseline entry (no longer found): {release} {obj}: {policy}"
        for (release, obj, policy) in sorted(accepted)
        if release in checked and (release, obj, policy) not in found
    ]
    return new + stale
