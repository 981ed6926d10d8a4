"""Gateway API entry point of each environment."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import ChartName, ChartRepository, DnsLabel, Model
from infra.config.charts import VendoredChart


class GatewayInstall(VendoredChart):
    """Install Envoy Gateway with a pinned Helm chart (otherwise the cluster provides the class)."""

    chart: ChartName = "gateway-helm"
    repository: ChartRepository = "oci://docker.io/envoyproxy"
    version: str = Field(pattern=r"^v?[0-9]+\.[0-9]+\.[0-9]+$")
    namespace: DnsLabel = "envoy-gateway-system"


class GatewayConfig(Model):
    class_name: DnsLabel
    port: int = Field(default=80, ge=1, le=65535)
    # Namespace where the gateway's proxies run; NetworkPolicies admit traffic only from there.
    data_plane_namespace: DnsLabel = "envoy-gateway-system"
    install: GatewayInstall | None = None
