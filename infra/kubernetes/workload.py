"""The one workload construct every release strategy uses: secure by default.

A `Workload` is one Deployment (rolling, track `main`) or one Argo Rollout (blue-green or canary,
whose pods the controller labels with their track), with its PodDisruptionBudget and
HorizontalPodAutoscaler when it runs more than one replica. The pod template is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config.base import percent
from infra.config.resources import Resources
from infra.config.services import Autoscaling
from infra.manifests.labels import TRACK, common_labels, service_selector, track_selector
from infra.manifests.network_policy import APP_PORT_NAME
from infra.release import DEPLOYMENT, ROLLOUT, WorkloadPlan

# A high UID/GID outside any host range; the image must not need root.
RUN_AS = 10001
ROLLOUTS_API = "argoproj.io/v1alpha1"


@dataclass(frozen=True)
class Workload:
    """One entry of the release plan (name, kind, tracks, replicas, autoscaling) with what its
    pods need to run."""

    plan: WorkloadPlan
    app: str
    environment: str
    namespace: str
    image: Any  # str, or a pulumi Output[str] of a digest reference
    resources: Resources
    port: int
    health_path: str
    readiness_path: str

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def service(self) -> str:
        return self.plan.name

    @property
    def kind(self) -> str:
        return self.plan.kind

    @property
    def track(self) -> str:
        return self.plan.tracks[0]

    @property
    def replicas(self) -> int:
        return self.plan.replicas

    @property
    def autoscaling(self) -> Autoscaling | None:
        return self.plan.autoscaling

    @property
    def autoscaled(self) -> bool:
        return self.plan.autoscaled

    @property
    def selector(self) -> dict[str, str]:
        # A Rollout's pods get their track from the controller, per ReplicaSet: the template
        # (and so the selector) carries none.
        if self.kind == ROLLOUT:
            return service_selector(self.app, self.service)
        return track_selector(self.app, self.service, self.track)

    @property
    def scale_target(self) -> dict[str, str]:
        api = ROLLOUTS_API if self.kind == ROLLOUT else "apps/v1"
        return {"apiVersion": api, "kind": self.kind, "name": self.name}

    @property
    def labels(self) -> dict[str, str]:
        return {**self.selector, **common_labels(self.environment)}

    def _meta(self, name: str | None = None) -> dict[str, Any]:
        return {"name": name or self.name, "namespace": self.namespace, "labels": self.labels}


# The app's node disk: its scratch directory (the root filesystem is read-only), reserved, and
# room for its logs above that, as the limit (a log flood evicts this pod, not its neighbours).
SCRATCH_SIZE = "64Mi"
EPHEMERAL_STORAGE_LIMIT = "256Mi"


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": APP_PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def container(w: Workload) -> dict[str, Any]:
    r = w.resources
    return {
        "name": "app",
        "image": w.image,
        # Digests make Always cheap (a manifest check) and stop a node serving a stale copy.
        "imagePullPolicy": "Always",
        "ports": [{"name": APP_PORT_NAME, "containerPort": w.port, "protocol": "TCP"}],
        "env": [{"name": "APP_ENV", "value": w.environment}],
        "resources": {
            "requests": {
                "cpu": r.requests.cpu,
                "memory": r.requests.memory,
                "ephemeral-storage": SCRATCH_SIZE,
            },
            "limits": {
                "cpu": r.limits.cpu,
                "memory": r.limits.memory,
                "ephemeral-storage": EPHEMERAL_STORAGE_LIMIT,
            },
        },
        "startupProbe": _probe(w.health_path, period=2, failures=30),
        "readinessProbe": _probe(w.readiness_path, period=5, failures=3),
        "livenessProbe": _probe(w.health_path, period=10, failures=3),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # The root filesystem is read-only; the app gets a small scratch directory.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _spread(w: Workload, key: str, when: str) -> dict[str, Any]:
    return {
        "maxSkew": 1,
        "topologyKey": key,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": w.selector},
    }


def deployment_manifest(w: Workload) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": w.selector},
        "revisionHistoryLimit": 5,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {"labels": w.labels},
            "spec": {
                "serviceAccountName": w.service,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": RUN_AS,
                    "runAsGroup": RUN_AS,
                    "fsGroup": RUN_AS,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container(w)],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": SCRATCH_SIZE}}],
                "topologySpreadConstraints": [
                    _spread(w, "topology.kubernetes.io/zone", "ScheduleAnyway"),
                    _spread(w, "kubernetes.io/hostname", "ScheduleAnyway"),
                ],
            },
        },
    }
    # With an autoscaler the HPA owns the replica count; declaring it would fight the HPA.
    if not w.autoscaled:
        spec["replicas"] = w.replicas
    return {"apiVersion": "apps/v1", "kind": DEPLOYMENT, "metadata": w._meta(), "spec": spec}


def pod_disruption_budget_manifest(w: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": w._meta(),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": w.selector}},
    }


def autoscaler_manifest(w: Workload, autoscaling: Autoscaling) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": w._meta(),
        "spec": {
            "scaleTargetRef": w.scale_target,
            "minReplicas": w.replicas,
            "maxReplicas": autoscaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": percent(autoscaling.target_cpu_utilization),
                        },
                    },
                }
            ],
        },
    }


def rollout_manifest(w: Workload, strategy: dict[str, Any]) -> dict[str, Any]:
    """An Argo Rollout: the Deployment's spec with the controller's strategy in place of its own."""
    spec = {**deployment_manifest(w)["spec"], "strategy": strategy}
    return {"apiVersion": ROLLOUTS_API, "kind": ROLLOUT, "metadata": w._meta(), "spec": spec}


def workload_manifests(
    w: Workload, rollout_strategy: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    manifests = [
        deployment_manifest(w)
        if rollout_strategy is None
        else rollout_manifest(w, rollout_strategy)
    ]
    if w.replicas > 1:
        manifests.append(pod_disruption_budget_manifest(w))
    if w.autoscaling is not None and w.autoscaled:
        manifests.append(autoscaler_manifest(w, w.autoscaling))
    return manifests


def service_manifest(
    w: Workload, name: str, selector: dict[str, str], role: str | None = None
) -> dict[str, Any]:
    """ClusterIP Service on port 80 -> the container's named `http` port."""
    labels = {k: v for k, v in w.labels.items() if k != TRACK}
    if role:
        labels["tbcoin.io/role"] = role
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": w.namespace, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": APP_PORT_NAME, "protocol": "TCP"}],
        },
    }


def service_account_manifest(w: Workload) -> dict[str, Any]:
    labels = {k: v for k, v in w.labels.items() if k != TRACK}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": w.service, "namespace": w.namespace, "labels": labels},
        # The app does not talk to the Kubernetes API: no token in its pods.
        "automountServiceAccountToken": False,
    }
