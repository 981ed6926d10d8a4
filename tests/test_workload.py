"""The workload construct is secure by default (Pod Security "restricted") and highly available
when it runs more than one replica."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.services import Autoscaling, Resources
from infra.kubernetes.workload import Workload, workload_manifests
from infra.release import WorkloadPlan


def _workload(replicas: int, autoscaling: Autoscaling | None = None) -> Workload:
    return Workload(
        plan=WorkloadPlan("api", "Deployment", ("main",), replicas, autoscaling),
        app="app",
        environment="staging",
        namespace="ns",
        image="repo@sha256:" + "0" * 64,
        resources=Resources(),
        port=8000,
        health_path="/health",
        readiness_path="/ready",
    )


def _pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]


def test_pod_meets_restricted_pod_security() -> None:
    pod = _pod(workload_manifests(_workload(1)))
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsUser"] >= 10000
    # Restarted when unsound, rested when overloaded: two endpoints.
    for probe, path in (("startupProbe", "/health"), ("livenessProbe", "/health"),
                        ("readinessProbe", "/ready")):  # fmt: skip
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}


@pytest.mark.parametrize(
    ("replicas", "autoscaling", "kinds"),
    [
        (1, None, ["Deployment"]),
        (1, Autoscaling(maxReplicas=4), ["Deployment"]),
        (2, None, ["Deployment", "PodDisruptionBudget"]),
        (
            3,
            Autoscaling(maxReplicas=6),
            ["Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler"],
        ),
    ],
)
def test_budget_and_autoscaler_only_with_more_than_one_replica(
    replicas: int, autoscaling: Autoscaling | None, kinds: list[str]
) -> None:
    objects = workload_manifests(_workload(replicas, autoscaling))
    assert [o["kind"] for o in objects] == kinds
    deployment = objects[0]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    if "HorizontalPodAutoscaler" in kinds:
        assert "replicas" not in deployment["spec"]
        assert objects[2]["spec"]["minReplicas"] == replicas
    else:
        assert deployment["spec"]["replicas"] == replicas
