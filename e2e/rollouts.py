"""Releases on the real Argo Rollouts controller (v1.9.0, built from its module), run out of
cluster against the e2e API server with the CRDs the program's argo-rollouts Release installed.

Started the way users release: a new image digest in the stack's config, `pulumi up`; then the
controller's objects are read from the API server and `infractl rollout` is run against them.
Two things stand in for what cannot run here, and say so in the report:
- the controller reads its settings from a namespace without the chart's ConfigMap: that
  ConfigMap names the Gateway API plugin at file:///plugins/…, which the module proxy does not
  serve, and the controller exits at start (`Failed to download plugins`) when the file is
  missing (`plugin_refused` records it). Blue-green needs no traffic router;
- the cluster's Service network: the AnalysisTemplates keep the in-cluster Prometheus address
  they ship with; the controller reaches it through HTTP_PROXY, which forwards that one host to
  a real Prometheus on loopback (e2e/prometheus.py).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from e2e import controlplane, engine, infractl
from e2e.errors import HarnessError
from e2e.tools import BIN

CONTROLLER = BIN / "rollouts-controller"
GROUP, VERSION = "argoproj.io", "v1alpha1"
HASH = "rollouts-pod-template-hash"
# The chart's namespace (tbcoin-platform:rollouts.namespace) holds its argo-rollouts-config.
CHART_NAMESPACE = "argo-rollouts"
# No ConfigMap of the controller's here: it starts with defaults (no plugins).
SETTINGS_NAMESPACE = "default"
# The port of kube-prometheus-stack's Prometheus Service.
PROMETHEUS_PORT = 9090
# The controller's notification settings (argo-rollouts v1.9.0, utils/record/record.go).
NOTIFICATION_CONFIGMAP = "argo-rollouts-notification-configmap"


def available() -> bool:
    return CONTROLLER.is_file()


def _env(settings_namespace: str, proxy_port: int | None) -> dict[str, str]:
    env = {"POD_NAMESPACE": settings_namespace}
    if proxy_port is not None:
        # Go never proxies loopback, so the API server is still reached directly.
        env |= {"HTTP_PROXY": f"http://127.0.0.1:{proxy_port}", "NO_PROXY": "127.0.0.1"}
    return env


def _argv(plane: controlplane.ControlPlane, metrics_port: int = 0) -> list[str]:
    return [
        "rollouts-controller",
        "--kubeconfig",
        str(plane.kubeconfig),
        "--leader-elect=false",
        "--metricsport",
        str(metrics_port or controlplane.free_port()),
        "--healthzPort",
        str(controlplane.free_port()),
    ]


def plugin_refused(plane: controlplane.ControlPlane) -> str:
    """The controller with the chart's own settings: it must exit at start on the plugin file
    it cannot find. Returns the log line that says why ('' if it kept running)."""
    process = plane.start(
        "rollouts-controller-chart-settings", _argv(plane), env=_env(CHART_NAMESPACE, None)
    )
    try:
        process.popen.wait(60)
    except subprocess.TimeoutExpired:
        return ""
    finally:
        process.stop()
    return next(
        (line for line in process.log.read_text().splitlines() if "plugin" in line.lower()), ""
    )


def start(
    plane: controlplane.ControlPlane, proxy_port: int, metrics_port: int
) -> controlplane.Process:
    """The controller as the scenarios run it, its own metrics on `metrics_port` and the
    cluster's Services behind `proxy_port`; stopped with the control plane."""
    process = plane.start(
        "rollouts-controller", _argv(plane, metrics_port), env=_env(SETTINGS_NAMESPACE, proxy_port)
    )
    plane.wait_until(
        "the Rollouts controller's healthz",
        lambda: process.log.is_file() and "Starting Healthz Server" in process.log.read_text(),
        process,
        60,
    )
    return process


@contextlib.contextmanager
def notification_settings(kubeconfig: Path) -> Iterator[list[str]]:
    """The stack's notification ConfigMap and Secret, as the chart and the stack deployed them
    in the chart's namespace, copied to the one the controller reads its settings from here
    (SETTINGS_NAMESPACE: the chart's own names the plugin it cannot load) for the block, then
    removed, so that destroy finds nothing of ours left. Yields their names."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    from infra.kubernetes.rollouts_controller import NOTIFICATION_SECRET

    core: Any = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    copied = []
    try:
        for kind, name in (
            ("config_map", NOTIFICATION_CONFIGMAP),
            ("secret", NOTIFICATION_SECRET),
        ):
            found = getattr(core, f"read_namespaced_{kind}")(name, CHART_NAMESPACE)
            found.metadata = client.V1ObjectMeta(name=name, labels=found.metadata.labels)
            try:
                getattr(core, f"create_namespaced_{kind}")(SETTINGS_NAMESPACE, found)
            except ApiException as exc:
                raise HarnessError(f"copying {name}: {exc.reason}") from None
            copied.append((kind, name))
        yield [name for _, name in copied]
    finally:
        for kind, name in copied:
            getattr(core, f"delete_namespaced_{kind}")(name, SETTINGS_NAMESPACE)


def errors(process: controlplane.Process) -> list[str]:
    """Each distinct error the controller logged, once: what it refused or could not do."""
    seen: dict[str, None] = {}
    for line in process.log.read_text(errors="replace").splitlines():
        if "level=error" in line and 'msg="' in line:
            seen.setdefault(line.split('msg="', 1)[1].split('" ', 1)[0][:400])
    return list(seen)


class Cluster:
    """The objects a release is read from, through the official client."""

    def __init__(self, kubeconfig: Path, namespace: str, settings: Path) -> None:
        from kubernetes import client, config

        api = config.new_client_from_config(str(kubeconfig))
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.settings = settings  # the stack's settings as the engine deploys them
        self.custom: Any = client.CustomObjectsApi(api)
        self.core: Any = client.CoreV1Api(api)
        self.apps: Any = client.AppsV1Api(api)

    def rollout(self, name: str) -> dict[str, Any]:
        return self._get("rollouts", name)

    def selector(self, service: str) -> dict[str, str]:
        return dict(self.core.read_namespaced_service(service, self.namespace).spec.selector or {})

    def replica_sets(self, rollout: str) -> dict[str, int]:
        """Pod-template hash -> replicas of each ReplicaSet the Rollout owns."""
        found = {}
        for rs in self.apps.list_namespaced_replica_set(self.namespace).items:
            owners = rs.metadata.owner_references or []
            if any(o.kind == "Rollout" and o.name == rollout for o in owners):
                found[rs.metadata.labels.get(HASH, "")] = int(rs.spec.replicas or 0)
        return found

    def analysis_run(self, name: str) -> dict[str, Any]:
        return self._get("analysisruns", name)

    def analysis_template(self, name: str) -> dict[str, Any]:
        return self._get("analysistemplates", name)

    def _get(self, plural: str, name: str) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name)
        )

    def prometheus_host(self, namespace: str) -> str | None:
        """`name.namespace.svc:port` of the Service in front of the Prometheus pods
        (kube-prometheus-stack's Service, as its Release created it), the address the
        AnalysisTemplates must name."""
        for svc in self.core.list_namespaced_service(namespace).items:
            if (svc.spec.selector or {}).get("app.kubernetes.io/name") == "prometheus":
                for port in svc.spec.ports:
                    if port.port == PROMETHEUS_PORT:
                        return f"{svc.metadata.name}.{namespace}.svc:{port.port}"
        return None

    def rule_groups(
        self, app: str, interval: str, groups: tuple[str, ...] = ("recording",)
    ) -> list[dict[str, Any]]:
        """The rule groups `groups` (by the suffix of their names) of `app`'s PrometheusRule as
        the stack deployed them, evaluated every `interval` (the run's clock; the expressions
        are the stack's)."""
        rules = self.custom.list_cluster_custom_object(
            "monitoring.coreos.com", "v1", "prometheusrules"
        )
        suffixes = tuple(f"-{app}.{group}" for group in groups)
        return [
            {**group, "interval": interval}
            for item in rules["items"]
            for group in item["spec"].get("groups", [])
            if group.get("name", "").endswith(suffixes)
        ]

    def alert_expr(self, alert: str, app: str) -> str:
        """The expression of `alert` for `app`, as the stack's PrometheusRule in the cluster
        holds it."""
        rules = self.custom.list_cluster_custom_object(
            "monitoring.coreos.com", "v1", "prometheusrules"
        )
        for item in rules["items"]:
            for group in item["spec"].get("groups", []):
                for rule in group.get("rules", []):
                    if rule.get("alert") == alert and rule.get("labels", {}).get("app") == app:
                        return str(rule["expr"])
        raise HarnessError(f"no {alert} alert for {app} in the cluster's PrometheusRules")

    def wait(self, check: Callable[[], bool], deadline: float = 180) -> bool:
        """Whether `check` held within `deadline` seconds: a timeout is a failed check of the
        scenario (the controller did not act), not a harness error."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if check():
                return True
            time.sleep(1)
        return False


def infractl_rollout(
    action: str, stack: str, service: str, settings: Path, kubeconfig: Path
) -> subprocess.CompletedProcess[str]:
    """`infractl rollout` as an operator runs it: the stack's settings, its kubeconfig context."""
    return infractl.run(
        "rollout", action, "--stack", stack, "--config-file", str(settings), "--service", service,
        env={"KUBECONFIG": str(kubeconfig)}, only=True,
    )  # fmt: skip


def set_image(pulumi: engine.Engine, stack: str, service: str, digest: str) -> None:
    """The release itself: the new digest in the stack's config, set by `pulumi config set`."""
    set_strategy(pulumi, stack, service, "image", digest)


def set_strategy(
    pulumi: engine.Engine, stack: str, service: str, key: str, value: str | None
) -> None:
    """`key` (a path such as `analysis.budgetOverride.reason`) of a service's strategy in the
    stack's config set to `value` by `pulumi config set`, or removed (None) by `config rm`."""
    path = f"tbcoin-platform:services.{service}.strategy.{key}"
    args = ("set", "--path", path, value) if value is not None else ("rm", "--path", path)
    done = pulumi.run("config", *args, "--stack", stack, event_log=False)
    if done.returncode != 0:
        raise HarnessError(f"pulumi config {args[0]} of {path}: {done.stderr.strip()}")
