"""The project's own Kubernetes objects pass independent validators: the API schemas, the CRDs the
pinned charts install, and checkov."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.charts import validate
from tests.conftest import REPO, manifests

STACKS = ["staging", "prod"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_validates_against_its_schema(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    objects = manifests(synthesized(stack))
    kinds = {o["kind"] for o in objects}
    assert {"Rollout", "AnalysisTemplate", "Service", "Gateway", "HTTPRoute"} <= kinds
    for obj in objects:
        validate(obj)


def test_validators_reject_broken_objects(synthesized: Callable[[str], Path]) -> None:
    """The schema checks are not vacuous: typo'd fields, bad types and a bad route all fail."""
    objects = {o["kind"]: o for o in manifests(synthesized("prod"))}
    deployment = next(o for o in manifests(synthesized("staging")) if o["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    # A Rollout's pod template is checked field by field against the CRD, typos included.
    rollout = copy.deepcopy(objects["Rollout"])
    rollout["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(jsonschema.ValidationError, match="imagePullPolicyy"):
        validate(rollout)
    rollout["spec"]["template"]["spec"]["containers"][0].pop("imagePullPolicyy")
    rollout["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"].pop("port")
    with pytest.raises(jsonschema.ValidationError):
        validate(rollout)
    rollout = copy.deepcopy(objects["Rollout"])
    rollout["spec"]["strategy"][next(iter(rollout["spec"]["strategy"]))]["scaleDownDelaySecond"] = 1
    with pytest.raises(jsonschema.ValidationError, match="scaleDownDelaySecond"):
        validate(rollout)
    template = copy.deepcopy(objects["AnalysisTemplate"])
    template["spec"]["metrics"][0]["provider"]["prometheus"]["adress"] = "http://x"
    with pytest.raises(jsonschema.ValidationError, match="adress"):
        validate(template)
    route = copy.deepcopy(objects["HTTPRoute"])
    route["spec"]["rules"][0]["backendRefs"][0]["weight"] = "heavy"
    with pytest.raises(jsonschema.ValidationError):
        validate(route)


def _checkov() -> str:
    path = os.environ.get("CHECKOV") or str(REPO / ".tools" / "checkov" / "bin" / "checkov")
    assert Path(path).exists(), f"checkov not installed at {path}: run `make tools`"
    return path


def _as_deployment(rollout: dict[str, Any]) -> dict[str, Any]:
    """checkov knows no Rollout: its pod template is checked as the Deployment it replaces."""
    spec = {k: v for k, v in rollout["spec"].items() if k in ("replicas", "selector", "template")}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": rollout["metadata"],
            "spec": spec}  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_nothing(
    stack: str, synthesized: Callable[[str], Path], tmp_path: Path
) -> None:
    folder = tmp_path / "kubernetes"
    shutil.copytree(synthesized(stack) / "kubernetes", folder)
    for path in folder.rglob("rollout-*.yaml"):
        path.write_text(yaml.safe_dump(_as_deployment(yaml.safe_load(path.read_text()))))
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    proc = subprocess.run(
        [_checkov(), "-d", str(folder), "--framework", "kubernetes",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["passed"] > 100
    assert report["summary"]["parsing_errors"] == 0
