"""The policy pack over the objects the pinned charts would install (`infractl check --charts`).

Charts are rendered by Helm's own Go SDK (helm-python-sdk, no cluster, no network) from the archive
vendored in the project, with the values each `helm.v3.Release` declares, so what is checked is what
would be installed. Each object goes to the pack as the resource the Kubernetes provider would
register (`kubernetes:<group/version>:<Kind>`, parented to its Release), checked together with the
stack's own resources so stack policies see them in context. Findings on chart objects are compared
with the reviewed baseline (policies/chart-baseline.yaml): one reason per accepted (release,
object, policy). helm_python is a test extra: it is imported only when a chart is rendered.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from infra.config.charts import release_archive
from infractl.errors import UsageError
from infractl.policy.results import ChartVerdict, CheckResult

if TYPE_CHECKING:
    from infractl.synth.capture import Captured

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
BASELINE = Path("policies") / "chart-baseline.yaml"
Obj = dict[str, Any]
Key = tuple[str, str, str]  # (release, "Kind namespace/name", policy)


def require_helm() -> None:
    """Refuse, on one line, when the renderer (a test extra) is not installed."""
    try:
        import helm_python  # noqa: F401
    except ImportError:
        raise UsageError(
            "--charts needs helm-python-sdk from the test extra: "
            "run `.venv/bin/uv pip install -e '.[test]'` (or `make .venv/.installed-test`)"
        ) from None


def archive_of(release: Obj, project: Path) -> Path:
    """The vendored archive a Release installs (a project-relative path, or chart + version)."""
    inputs = release["inputs"]
    chart = inputs["chart"]
    if chart.endswith(".tgz"):
        return release_archive(chart, project)
    return (
        project / "vendor" / "helm-charts" / f"{chart.rsplit('/', 1)[-1]}-{inputs['version']}.tgz"
    )


@functools.cache
def _render(path: Path, values_json: str, release: str, namespace: str) -> tuple[Obj, ...]:
    import helm_python

    with helm_python.Chart.load(path) as chart:
        templates = chart.render(
            json.loads(values_json), name=release, namespace=namespace, is_install=True
        )
    objects = []
    for template, text in sorted(templates.items()):
        if template.endswith("NOTES.txt"):  # shown to the user by Helm, never applied
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("metadata", {}).setdefault("namespace", namespace)
                objects.append(doc)
    return tuple(objects)


def render(path: Path, values: Obj | None = None, *, release: str, namespace: str) -> list[Obj]:
    """The objects `helm install <release> <path> -n <namespace>` would apply (CRDs of the
    chart's crds/ folders excluded). Rendered once per process and argument set; each call
    returns a fresh copy that callers may change."""
    key = json.dumps(values or {}, sort_keys=True)
    return copy.deepcopy(list(_render(path, key, release, namespace)))


def render_release(release: Obj, project: Path) -> list[Obj]:
    """Render a `kubernetes:helm.sh/v3:Release` from resources.json with the values it declares."""
    inputs = release["inputs"]
    return render(
        archive_of(release, project),
        inputs.get("values"),
        release=inputs["name"],
        namespace=inputs["namespace"],
    )


def describe(obj: Obj) -> str:
    meta = obj.get("metadata", {})
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta.get('name', '')}"


def resource_type(obj: Obj) -> str:
    """The provider's type token: the core group is spelled `core` (`v1` -> `core/v1`)."""
    api = obj["apiVersion"]
    return f"kubernetes:{api if '/' in api else 'core/' + api}:{obj['kind']}"


def chart_resources(
    resources: Iterable[Captured], render: Callable[[Obj], list[Obj]]
) -> dict[str, Captured]:
    """URN -> a chart object as a registered resource, for every Release among `resources`."""
    from infractl.synth.capture import Captured, struct_of

    captured: dict[str, Captured] = {}
    for release in resources:
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


def findings(checked: CheckResult, charts: dict[str, Captured]) -> dict[Key, list[str]]:
    """(release, object, policy) -> the pack's messages, for chart objects only."""
    found: dict[Key, list[str]] = {}
    for v in checked.violations:
        if v.urn in charts:
            release, _, obj = charts[v.urn].name.partition(":")
            found.setdefault((release, obj, v.policy), []).append(v.message)
    return found


def load_baseline(path: Path) -> dict[Key, str]:
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


def new_findings(found: dict[Key, list[str]], accepted: dict[Key, str]) -> list[str]:
    """Findings the baseline does not accept, one line each."""
    return [
        f"new finding: {release} {obj}: {policy}: {'; '.join(messages)}"
        for (release, obj, policy), messages in sorted(found.items())
        if (release, obj, policy) not in accepted
    ]


def judge(result: CheckResult, charts: dict[str, Captured], baseline: Path) -> None:
    """Move the findings on chart objects out of `result` into its chart verdict: accepted ones
    are counted, the others fail the check. Entries for releases this stack lacks are not stale
    here (the baseline covers every stack); the tests check staleness over all of them."""
    try:
        accepted = load_baseline(baseline)
    except (OSError, ValueError, yaml.YAMLError, AttributeError) as e:
        raise UsageError(f"{baseline}: not a chart baseline: {e}") from None
    found = findings(result, charts)
    result.violations = [v for v in result.violations if v.urn not in charts]
    result.resources -= len(charts)
    result.charts = ChartVerdict(
        objects=len(charts),
        accepted=sum(key in accepted for key in found),
        new=new_findings(found, accepted),
    )
