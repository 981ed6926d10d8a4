"""The project's own Kubernetes objects pass independent validators: the API schemas, the CRDs the
pinned charts install, and checkov."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from tests.charts import validate
from tests.conftest import REPO, manifests

STACKS = ["staging", "prod"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_validates_against_its_schema(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    objects = manifests(synthesized(stack))
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "Gateway", "HTTPRoute", "NetworkPolicy"} <= kinds
    for obj in objects:
        validate(obj)


def test_validators_reject_broken_objects(synthesized: Callable[[str], Path]) -> None:
    """The schema checks are not vacuous: a typo'd field and a bad route both fail."""
    objects = {o["kind"]: o for o in manifests(synthesized("prod"))}
    deployment = copy.deepcopy(objects["Deployment"])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    route = copy.deepcopy(objects["HTTPRoute"])
    route["spec"]["rules"][0]["backendRefs"][0]["weight"] = "heavy"
    with pytest.raises(jsonschema.ValidationError):
        validate(route)


def _checkov() -> str:
    path = os.environ.get("CHECKOV") or str(REPO / ".tools" / "checkov" / "bin" / "checkov")
    assert Path(path).exists(), f"checkov not installed at {path}: run `make tools`"
    return path


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_nothing(stack: str, synthesized: Callable[[str], Path]) -> None:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    proc = subprocess.run(
        [_checkov(), "-d", str(synthesized(stack) / "kubernetes"), "--framework", "kubernetes",
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
