"""Render the vendored Helm chart archives offline and validate Kubernetes objects.

Charts are rendered by Helm's own Go SDK (helm-python-sdk, no cluster, no network) with the values
the program declares for each `helm.v3.Release`, so what is tested is what would be installed.
Custom resources are validated against the CRDs the pinned charts install (vendor/crds), native
kinds with kubernetes-validate in strict mode.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import time
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import yaml

from tests.conftest import REPO, vendored

KUBERNETES_VERSION = "1.34"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
Obj = dict[str, Any]

# Seconds spent in Helm's render per archive in this process (README reports the total).
RENDER_SECONDS: dict[str, float] = {}


class CrdLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """CRDs carry a bare `=` (YAML 1.1's value tag) in enum lists: read it as the string."""


CrdLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def archive_of(release: Obj) -> Path:
    inputs = release["inputs"]
    chart = inputs["chart"]
    if chart.endswith(".tgz"):
        return REPO / chart
    return vendored("helm-charts", f"{chart.rsplit('/', 1)[-1]}-{inputs['version']}.tgz")


@functools.cache
def _render(path: Path, values_json: str, release: str, namespace: str) -> tuple[Obj, ...]:
    started = time.perf_counter()
    with helm_python.Chart.load(path) as chart:
        templates = chart.render(
            json.loads(values_json), name=release, namespace=namespace, is_install=True
        )
    RENDER_SECONDS[path.name] = RENDER_SECONDS.get(path.name, 0.0) + time.perf_counter() - started
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
    chart's crds/ folders excluded: see `chart_crds`). Rendered once per process and argument
    set; each call returns a fresh copy that callers may change."""
    key = json.dumps(values or {}, sort_keys=True)
    return copy.deepcopy(list(_render(path, key, release, namespace)))


def render_release(release: Obj) -> list[Obj]:
    """Render a `kubernetes:helm.sh/v3:Release` from resources.json with the values it declares."""
    inputs = release["inputs"]
    return render(
        archive_of(release),
        inputs.get("values"),
        release=inputs["name"],
        namespace=inputs["namespace"],
    )


@functools.cache
def chart_crds(path: Path) -> dict[str, str]:
    """File name -> text of the CRD files Helm installs from the crds/ folders of the chart and
    its subcharts."""
    with helm_python.Chart.load(path) as chart:
        return {Path(crd["filename"]).name: crd["data"] for crd in chart.crds}


def _strict(schema: Any) -> Any:
    """Refuse unknown fields, as the API server does with fieldValidation=Strict, except where the
    CRD keeps unknown fields on purpose."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    if isinstance(schema.get("properties"), dict):
        strict["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
    return strict


_CRD_KEY = re.compile(r"^  group: (\S+)$.*?^    kind: (\S+)$", re.M | re.S)


@functools.cache
def _crd_documents() -> dict[tuple[str, str], str]:
    """(group, kind) -> the text of its vendored CRD. Found by a scan of the text: parsing all 8 MB
    of CRDs costs seconds, and a test needs only a few of them."""
    documents = {}
    for path in sorted(vendored("crds").rglob("*.yaml")):
        for text in re.split(r"^---$", path.read_text(), flags=re.M):
            if found := _CRD_KEY.search(text):
                documents[(found[1], found[2])] = text
    return documents


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator | None:
    """The schema a served version of a vendored CRD gives `kind`, or None for other groups."""
    group, _, version = api_version.rpartition("/")
    text = _crd_documents().get((group, kind))
    if text is None:
        return None
    crd = yaml.load(text, Loader=CrdLoader)
    for served in crd["spec"]["versions"]:
        if served["name"] == version and served.get("served", True):
            return jsonschema.Draft7Validator(_strict(served["schema"]["openAPIV3Schema"]))
    raise jsonschema.ValidationError(f"{kind} {api_version}: version not served by its CRD")


def _without_nulls(value: Any) -> Any:
    # The API server prunes null fields before validating a custom resource.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def validate(obj: Obj) -> None:
    """Raise if `obj` is not a valid object: custom resources against the CRD the pinned charts
    install (an unknown kind is an error), native kinds with kubernetes-validate strict."""
    key = (obj["apiVersion"], obj["kind"])
    validator = crd_validator(*key)
    if validator is not None:
        validator.validate(_without_nulls(obj))
        return
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError as e:
        raise jsonschema.ValidationError(f"no schema for {key} in vendor/crds or Kubernetes") from e


def describe(obj: Obj) -> str:
    meta = obj.get("metadata", {})
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta.get('name', '')}"


def selects(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics: every matchLabels pair and every matchExpression must
    hold; an empty selector selects everything, a missing one (None) nothing."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        holds = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not holds:
            return False
    return True
