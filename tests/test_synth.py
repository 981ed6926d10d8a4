"""`infractl synth` on the real stacks: succeeds, is deterministic, writes what the engine gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import infractl


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module", params=["staging", "prod"])
def synth(request: pytest.FixtureRequest, synthesized: Callable[[str], Path]) -> Path:
    return synthesized(request.param)


def test_synth_is_byte_for_byte_deterministic(synth: Path, tmp_path: Path) -> None:
    """`infractl synth` in its own process writes exactly what the shared in-process run wrote."""
    stack = json.loads((synth / "resources.json").read_text())[0]["urn"].split(":")[2]
    again = tmp_path / "again"
    run = infractl("synth", "--stack", stack, "--out", again)
    assert run.code == 0, run.stderr
    assert f"Stack '{stack}':" in run.stdout
    assert _tree(again) == _tree(synth)


def test_urns_are_in_the_engines_form(synth: Path) -> None:
    resources = json.loads((synth / "resources.json").read_text())
    assert resources == sorted(resources, key=lambda r: r["urn"])
    for resource in resources:
        assert "pulumi:pulumi:Stack" not in resource["urn"]
        assert set(resource) == {"urn", "type", "name", "custom", "inputs", "options"}
        for ref in (resource["options"].get("parent"), resource["options"].get("provider")):
            assert ref is None or ref.startswith("urn:pulumi:")


def test_every_kubernetes_object_uses_the_explicit_provider(synth: Path) -> None:
    resources = json.loads((synth / "resources.json").read_text())
    providers = {r["urn"] for r in resources if r["type"] == "pulumi:providers:kubernetes"}
    assert len(providers) == 1
    k8s = [r for r in resources if r["type"].startswith("kubernetes:")]
    assert k8s
    assert all(r["options"]["provider"] in providers for r in k8s)


def test_each_kubernetes_object_is_one_manifest_file(synth: Path) -> None:
    resources = json.loads((synth / "resources.json").read_text())
    k8s = [
        r
        for r in resources
        if r["type"].startswith("kubernetes:") and not r["type"].startswith("kubernetes:helm.sh/")
    ]
    files = sorted((synth / "kubernetes").rglob("*.yaml"))
    assert len(files) == len(k8s)
    for file in files:
        docs = list(yaml.safe_load_all(file.read_text()))
        assert len(docs) == 1
        assert {"apiVersion", "kind", "metadata"} <= set(docs[0])


def test_namespaces_enforce_restricted_pod_security(synth: Path) -> None:
    namespaces = list((synth / "kubernetes" / "_cluster").glob("namespace-*.yaml"))
    assert len(namespaces) >= 2
    for file in namespaces:
        labels = yaml.safe_load(file.read_text())["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert labels["pod-security.kubernetes.io/audit"] == "restricted"
        # Only the monitoring namespace admits privileged pods (node-exporter needs the host).
        expected = "privileged" if file.name == "namespace-monitoring.yaml" else "restricted"
        assert labels["pod-security.kubernetes.io/enforce"] == expected
