"""Gateway API entry point of each environment, and what Gateway API accepts as a route's path."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ClassVar

import yaml
from pydantic import Field

from infra.config.base import DnsLabel, Integer, Model
from infra.config.charts import ROOT, Chart

# The Gateway API CRDs the pinned gateway-helm chart installs (vendor/crds/SOURCES.md).
GATEWAY_API_CRDS = ROOT / "vendor/crds/gateway-api/gatewayapi-crds.yaml"
# The forms of CEL rule the HTTPRoute path carries: `(self.type in [...]) ? <test> : true`.
_CEL_PATH_RULE = re.compile(
    r"\(self\.type in \[[^\]]*'PathPrefix'[^\]]*\]\) \? (!?)self\.value\."
    r"(startsWith|contains|endsWith|matches)\((?:'([^']*)'|r\"\"\"(.*)\"\"\")\)\s*: true",
    re.DOTALL,
)
_CEL_TESTS: dict[str, Callable[[str, str], bool]] = {
    "startsWith": str.startswith,
    "contains": str.__contains__,
    "endsWith": str.endswith,
    "matches": lambda value, regex: re.search(regex, value) is not None,
}


@functools.cache
def path_prefix_rules() -> tuple[tuple[str, Callable[[str], bool]], ...]:
    """(message, holds) for every validation rule of an HTTPRoute v1 path match that applies
    to a PathPrefix, read from the vendored CRD: the API server's own rules, not a guess."""
    with GATEWAY_API_CRDS.open("rb") as handle:
        crds = list(yaml.load_all(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    route = next(c for c in crds if c and c["metadata"]["name"].startswith("httproutes."))
    v1 = next(v for v in route["spec"]["versions"] if v["name"] == "v1")
    match = v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["rules"]
    path = match["items"]["properties"]["matches"]["items"]["properties"]["path"]
    rules = []
    for rule in path["x-kubernetes-validations"]:
        parsed = _CEL_PATH_RULE.fullmatch(rule["rule"])
        if parsed is None:
            if "PathPrefix" in rule["rule"] and "self.value" in rule["rule"]:
                raise RuntimeError(f"{GATEWAY_API_CRDS}: a path rule of a new form: {rule}")
            continue  # about the type, not the value
        negate, test, literal, regex = parsed.groups()
        argument = literal if literal is not None else regex

        def holds(value: str, t: str = test, a: str = argument, n: bool = bool(negate)) -> bool:
            return _CEL_TESTS[t](value, a) != n

        rules.append((" ".join(rule["message"].split()), holds))
    return tuple(rules)


def gateway_path(value: str) -> str:
    """A PathPrefix value the API server would accept; ValueError with its message if not."""
    for message, holds in path_prefix_rules():
        if not holds(value):
            rule = re.split(" when | for types", message)[0]
            raise ValueError(f"must be a path prefix Gateway API accepts: {rule}")
    return value


def route_key(path_prefix: str) -> str:
    """What a PathPrefix matches: whole path elements, a trailing '/' ignored (the CRD's
    description of PathPrefix), so `/api` and `/api/` route the same requests."""
    return path_prefix.rstrip("/") or "/"


class GatewayInstall(Model):
    """Install Envoy Gateway with a pinned Helm chart (otherwise the cluster provides the class)."""

    RENAMED: ClassVar[dict[str, str]] = {
        key: f"chart.{new} (a chart is {{name, repository, version}})"
        for key, new in (("repository", "repository"), ("version", "version"))
    }

    chart: Chart = Field(
        description="Envoy Gateway's chart, gateway-helm from oci://docker.io/envoyproxy."
    )
    namespace: DnsLabel = Field(
        "envoy-gateway-system", description="The namespace Envoy Gateway's controller runs in."
    )


class GatewayConfig(Model):
    class_name: DnsLabel = Field(description="The GatewayClass each environment's Gateway uses.")
    port: Integer = Field(
        default=80, ge=1, le=65535, description="The port each environment's Gateway listens on."
    )
    data_plane_namespace: DnsLabel = Field(
        "envoy-gateway-system",
        description="The namespace the gateway's proxies run in; NetworkPolicies admit the "
        "app's traffic only from there.",
    )
    install: GatewayInstall | None = Field(
        None,
        description="Install Envoy Gateway from its pinned chart (unset: the cluster provides "
        "the GatewayClass).",
    )
