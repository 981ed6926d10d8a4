"""Validate Kubernetes objects, among them those the vendored charts render
(infractl.policy.charts renders them with the values each `helm.v3.Release` declares).
Custom resources are validated against the CRDs the pinned charts install (vendor/crds), native
kinds with kubernetes-validate in strict mode.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import yaml

from infractl.policy import charts
from infractl.policy.charts import Obj
from tests.conftest import REPO, vendored

KUBERNETES_VERSION = "1.34"


class CrdLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """CRDs carry a bare `=` (YAML 1.1's value tag) in enum lists: read it as the string."""


CrdLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def render_release(release: Obj) -> list[Obj]:
    """Render a Release of this repository's synth output (see infractl.policy.charts)."""
    return charts.render_release(release, REPO)


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
