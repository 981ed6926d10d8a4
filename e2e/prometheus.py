"""A real Prometheus (Debian's) on loopback, and the application traffic it scrapes.

- `Track`: one track's pods as Prometheus sees them: the application's metric names
  (prometheus-fastapi-instrumentator's `http_requests_total{status}` and
  `http_request_duration_highr_seconds`), served by prometheus_client, fed with requests whose
  5xx share the scenario sets and may change while Prometheus scrapes.
- `ServiceNetwork`: the cluster's Service network for one Service. The controller runs out of
  cluster, so it reaches the AnalysisTemplates' address (the kube-prometheus-stack Service, as
  shipped) through HTTP_PROXY; this proxy forwards exactly that host to the real Prometheus and
  refuses and records any other, so a template pointed elsewhere fails the scenario.
- `Prometheus`: the server, scraping the tracks and the Rollouts controller's own metrics.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from e2e import controlplane, loopback
from e2e.background import repeating
from e2e.errors import HarnessError
from e2e.tools import TOOLS
from infra.config.monitoring import LATENCY_BUCKETS

# Where the prometheus Debian package is unpacked (Makefile: $(PROMETHEUS_DIR)).
BINARY = TOOLS / "prometheus" / "usr" / "bin" / "prometheus"
# How often the harness's Prometheus evaluates the stack's rule groups (deployed: every minute,
# the budget's every 2 minutes): the run's clock, not the expressions.
RULES_EVERY = "5s"
# Requests per feed tick and ticks per second: enough that one 5xx share reads as set.
_PER_TICK, _TICK = 100, 0.2


@dataclass
class Track:
    """One track's metrics endpoint; `error_ratio` and `seconds` may be changed at any time."""

    error_ratio: float = 0.0
    seconds: float = 0.04  # every request's latency
    port: int = 0
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter("http_requests", "requests", ["status"], registry=self.registry)
        self.duration = Histogram(
            "http_request_duration_highr_seconds",
            "latency",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.port = controlplane.free_port()
        self._server, _ = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def tick(self) -> None:
        errors = round(_PER_TICK * self.error_ratio)
        self.requests.labels(status="5xx").inc(errors)
        self.requests.labels(status="2xx").inc(_PER_TICK - errors)
        for _ in range(_PER_TICK):
            self.duration.observe(self.seconds)


def traffic(tracks: Mapping[str, Track]) -> contextlib.AbstractContextManager[None]:
    """Requests to every track, 500 a second each, until the block ends."""

    def feed() -> None:
        for track in tracks.values():
            track.tick()

    return repeating(feed, _TICK)


@dataclass
class ServiceNetwork:
    """An HTTP proxy that routes one `host:port` to `target` and refuses every other."""

    host: str
    target: str
    port: int = 0
    forwarded: int = 0
    refused: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def serving(self) -> Iterator[ServiceNetwork]:
        network = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self, body: bytes | None) -> None:
                asked = urllib.parse.urlsplit(self.path)
                if asked.netloc != network.host:
                    network.refused.append(asked.netloc)
                    self.send_error(502, f"no Service {asked.netloc} in this cluster")
                    return
                url = network.target + urllib.parse.urlunsplit(("", "", *asked[2:]))
                request = urllib.request.Request(url, data=body, method=self.command)
                if body is not None:
                    request.add_header("Content-Type", self.headers.get("Content-Type", ""))
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, answer = response.status, response.read()
                except urllib.error.HTTPError as exc:
                    status, answer = exc.code, exc.read()
                network.forwarded += 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_GET(self) -> None:
                self._forward(None)

            def do_POST(self) -> None:
                self._forward(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        with loopback.serving(Handler) as self.port:
            yield self


@dataclass
class Prometheus:
    url: str
    process: controlplane.Process
    # The file the app job discovers its targets from (which tracks have pods).
    targets: Path
    tracks: Mapping[str, Track]
    labels: Mapping[str, str]

    def query(self, expr: str) -> list[dict[str, Any]]:
        form = urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{form}", timeout=10) as response:
            answer = json.load(response)
        if answer.get("status") != "success":
            raise HarnessError(f"prometheus refused {expr!r}: {answer}")
        return list(answer["data"]["result"])

    def restart(self, plane: controlplane.ControlPlane) -> None:
        """Started again with the same arguments (its port and data folder, which may have
        been written to while it was stopped), once ready."""
        self.process = plane.start_again(self.process.name)
        _wait_ready(plane, self)

    def scrape(self, names: Iterable[str]) -> None:
        """Scrape only the tracks `names`: those with pods, as the ServiceMonitor would find
        them (a canary track before its first pod has no series at all)."""
        _write_targets(self.targets, {n: self.tracks[n] for n in names}, self.labels)


def _write_targets(path: Path, tracks: Mapping[str, Track], labels: Mapping[str, str]) -> None:
    groups = [
        {"targets": [f"127.0.0.1:{t.port}"], "labels": {**labels, "track": name}}
        for name, t in tracks.items()
    ]
    staged = path.with_suffix(".tmp")
    staged.write_text(json.dumps(groups))
    staged.replace(path)  # file discovery must never read half a file


def start(
    plane: controlplane.ControlPlane,
    tracks: Mapping[str, Track],
    labels: Mapping[str, str],
    controller_metrics: int,
    *,
    name: str = "prometheus",
    rules: list[dict[str, Any]] | None = None,
    retention: str | None = None,
) -> Prometheus:
    """Prometheus scraping each track (its labels as the ServiceMonitor adds them: `labels`
    and `track`) and the Rollouts controller's metrics port, every second; stopped with the
    control plane. `rules`: rule groups it evaluates (the stack's PrometheusRules, as deployed);
    `retention`: the history it keeps (the stack's); its data folder is `<plane>/<name>/data`,
    where history may be backfilled before it starts (e2e/backfill.py) and which a restart
    keeps."""
    if not BINARY.is_file():
        raise HarnessError(f"{BINARY} is missing: run `make tools`")
    folder = plane.folder / name
    folder.mkdir(exist_ok=True)
    targets = folder / "targets.json"
    if not targets.is_file():
        _write_targets(targets, tracks, labels)
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "app",
                "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "1s"}],
            },
            {
                "job_name": "argo-rollouts",
                "static_configs": [{"targets": [f"127.0.0.1:{controller_metrics}"]}],
            },
        ],
    }
    if rules:
        (folder / "rules.yml").write_text(yaml.safe_dump({"groups": rules}))
        config["rule_files"] = [str(folder / "rules.yml")]
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = controlplane.free_port()
    argv = [
        str(BINARY),
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *([f"--storage.tsdb.retention.time={retention}"] if retention else []),
    ]
    process = plane.start(name, argv)
    server = Prometheus(f"http://127.0.0.1:{port}", process, targets, tracks, labels)
    _wait_ready(plane, server)
    return server


def _wait_ready(plane: controlplane.ControlPlane, server: Prometheus) -> None:
    def ready() -> bool:
        with urllib.request.urlopen(f"{server.url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)

    plane.wait_until(f"{server.process.name} to be ready", ready, server.process, 120)
