"""Canary analysis against Prometheus' HTTP API, with the expressions the alerts use."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from infra.config.monitoring import Thresholds
from infra.monitoring.rules import error_ratio_expr, quantile_expr, selector
from infra.monitoring.target import MonitoredService
from infractl.errors import InfractlError


class PrometheusError(InfractlError):
    """Prometheus did not answer, or refused the query."""


def query(base_url: str, expr: str, timeout: float = 10.0) -> dict[str, float]:
    """Instant query; returns {track: value} (series without a track are keyed "")."""
    url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = json.load(response)
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise PrometheusError(f"Prometheus at {base_url} did not answer: {exc}") from None
    if payload.get("status") != "success":
        raise PrometheusError(f"Prometheus refused the query: {payload.get('error', payload)}")
    values = {}
    for sample in payload["data"]["result"]:
        value = float(sample["value"][1])
        if value == value:  # NaN: no requests in the window
            values[sample["metric"].get("track", "")] = value
    return values


@dataclass
class Verdict:
    healthy: bool
    conclusive: bool
    measurements: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def render(self) -> str:
        word = "healthy" if self.healthy else ("unhealthy" if self.conclusive else "inconclusive")
        lines = [f"Canary analysis: {word}"]
        lines += [f"  {k}: {v:.4g}" for k, v in sorted(self.measurements.items())]
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


def analyse_canary(
    base_url: str, svc: MonitoredService, thresholds: Thresholds, window: str = "5m"
) -> Verdict:
    sel = selector(svc)
    ratios = query(base_url, error_ratio_expr(sel, window))
    p95 = query(base_url, quantile_expr("95", sel, window))
    verdict = Verdict(healthy=True, conclusive=True)
    canary, stable = ratios.get("canary"), ratios.get("stable", 0.0)
    if canary is None:
        return Verdict(False, False, {}, [f"no canary traffic in the last {window}"])
    verdict.measurements = {
        "canary error ratio": canary,
        "stable error ratio": stable,
        **({"canary p95 seconds": p95["canary"]} if "canary" in p95 else {}),
    }
    if canary > thresholds.error_rate:
        verdict.reasons.append(
            f"canary error ratio {canary:.2%} > threshold {thresholds.error_rate:.2%}"
        )
    if canary > thresholds.canary_error_factor * stable and canary > thresholds.canary_error_floor:
        verdict.reasons.append(
            f"canary error ratio {canary:.2%} > {thresholds.canary_error_factor:g} x stable "
            f"({stable:.2%})"
        )
    if p95.get("canary", 0.0) > thresholds.latency_p95_seconds:
        verdict.reasons.append(
            f"canary p95 {p95['canary']:.3g}s > threshold {thresholds.latency_p95_seconds:g}s"
        )
    verdict.healthy = not verdict.reasons
    return verdict
