"""`infractl synth` on the real stacks: succeeds, is deterministic, writes what the engine gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
        # Only the monitoring namespace admits privileged pods (node-exporter needs the host);
        # Envoy Gateway's enforces baseline (its proxies come from a template not rendered here).
        expected = {
            "namespace-monitoring.yaml": "privileged",
            "namespace-envoy-gateway-system.yaml": "baseline",
        }.get(file.name, "restricted")
        assert labels["pod-security.kubernetes.io/enforce"] == expected


@pytest.mark.parametrize("mutated", [False, True], ids=["harness", "sdk-trace-kept"])
def test_the_harness_registers_resources_without_a_stack_trace(
    monkeypatch: pytest.MonkeyPatch, mutated: bool
) -> None:
    """The harness empties the SDK's per-resource stack trace (nothing offline reads it). The
    mutation keeps the SDK's function, replaced by a spy: every registration then carries the
    spy's frame, which shows the harness replaces the function the SDK really calls (an SDK that
    renamed it would fail here, not make plans silently slower)."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    from infra.secrets import OFFLINE_ENV
    from infra.stack import load_stack
    from infractl.stackfile import read_stack_file
    from infractl.synth import harness
    from infractl.synth.capture import CapturingMonitor

    frames: list[int] = []
    register = CapturingMonitor.RegisterResource

    def spy(self: CapturingMonitor, request: Any) -> Any:
        frames.append(len(request.stackTrace.frames))
        return register(self, request)

    monkeypatch.setattr(CapturingMonitor, "RegisterResource", spy)
    monkeypatch.setattr(resource, "_get_stack_trace", resource._get_stack_trace)
    if mutated:
        one = source_pb2.StackTrace(frames=[source_pb2.StackFrame()])
        monkeypatch.setattr(harness, "_without_source_positions", lambda: None)
        monkeypatch.setattr(resource, "_get_stack_trace", lambda: one)
    monkeypatch.setenv(OFFLINE_ENV, "")  # the harness marks its process offline: restored after
    path = Path(__file__).resolve().parents[1] / "Pulumi.staging.yaml"
    stack_file = read_stack_file(path)
    harness.run_program(
        "staging", stack_file, load_stack(path.name, stack_file.config, stack="staging")
    )
    assert len(frames) > 40
    assert set(frames) == ({1} if mutated else {0})
