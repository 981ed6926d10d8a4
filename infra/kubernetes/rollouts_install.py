"""The Argo Rollouts controller as a component: namespace, chart release, ServiceMonitor,
NetworkPolicies."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.config.charts import release_chart
from infra.config.rollouts import RolloutsController
from infra.kubernetes.rollouts_controller import (
    RELEASE,
    chart_archive,
    controller_namespace_manifest,
    controller_network_policies,
    controller_service_monitor,
    controller_values,
)
from infra.manifests.apply import apply_manifest


class ArgoRollouts(pulumi.ComponentResource):
    def __init__(
        self,
        controller: RolloutsController,
        monitoring_namespace: str,
        monitoring: pulumi.Resource | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:kubernetes:ArgoRollouts", RELEASE, None, opts)
        namespace = apply_manifest(
            controller_namespace_manifest(controller), pulumi.ResourceOptions(parent=self)
        )
        inside = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        for policy in controller_network_policies(controller, monitoring_namespace):
            apply_manifest(policy, inside)
        # The vendored archive, never a download: the chart and its CRDs are what tests render.
        self.release = k8s.helm.v3.Release(
            RELEASE,
            name=RELEASE,
            chart=release_chart(chart_archive(controller)),
            version=controller.chart.version,
            namespace=controller.namespace,
            values=controller_values(controller),
            atomic=True,
            cleanup_on_fail=True,
            opts=inside,
        )
        # ServiceMonitor is a CRD of the monitoring chart.
        after = [self.release, *([monitoring] if monitoring is not None else [])]
        apply_manifest(
            controller_service_monitor(controller),
            pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        self.register_outputs({"namespace": controller.namespace})
