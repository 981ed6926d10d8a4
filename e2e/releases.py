"""What the release steps on the real Argo Rollouts controller share: the controller running
against the plane while its analyses' traffic flows and the cluster's Service network forwards
to the real Prometheus; everything stopped after, what the controller logged kept, and the
checks that the analyses asked the stack's Prometheus and nothing else."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

from e2e import prometheus, rollouts
from e2e.scenario import StackRun


@contextlib.contextmanager
def on_controller(
    s: StackRun,
    tracks: Mapping[str, prometheus.Track],
    server: prometheus.Prometheus,
    network: prometheus.ServiceNetwork,
    metrics_port: int,
    record: dict[str, Any],
) -> Iterator[None]:
    with prometheus.traffic(tracks), network.serving():
        controller = rollouts.start(s.plane, network.port, metrics_port)
        try:
            yield
        finally:
            controller.stop()
            server.process.stop()
            for track in tracks.values():
                track.close()
            record["controller-errors"] = rollouts.errors(controller)
            record["prometheus"] = {"host": network.host, "forwarded": network.forwarded}
    s.report.check(not network.refused, f"analysis asked for other hosts: {network.refused}")
    s.report.check(network.forwarded > 0, "no analysis query reached Prometheus")


def finished(record: dict[str, Any], started: float) -> str:
    """A release step's seconds, into its record, and its progress line."""
    record["seconds"] = round(time.monotonic() - started, 1)
    return f"{len(record['stages'])} stages in {record['seconds']:.0f} s"
