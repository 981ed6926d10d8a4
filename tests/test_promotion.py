"""Metric-gated promotion: the canary analysis against a real Prometheus server (Debian's, on a
loopback port, stopped afterwards) scraping a metrics endpoint this test serves; and the config
moves, validated offline, that the promotion commands apply."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from infra.config.monitoring import LATENCY_BUCKETS
from infra.monitoring.target import monitored_services
from infra.stack import load_stack
from infractl.ops.analysis import analyse_canary
from infractl.ops.promotion import MoveRefused, bluegreen_move, canary_move, validate_move
from infractl.stackfile import read_stack_file
from tests.conftest import REPO, infractl

WINDOW = "10s"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Track:
    error_ratio: float
    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    port: int


def _track(error_ratio: float) -> Track:
    registry = CollectorRegistry()
    requests = Counter("http_requests", "requests", ["status"], registry=registry)
    duration = Histogram(
        "http_request_duration_highr_seconds", "latency", buckets=LATENCY_BUCKETS, registry=registry
    )
    port = _free_port()
    start_http_server(port, addr="127.0.0.1", registry=registry)
    return Track(error_ratio, registry, requests, duration, port)


def _traffic(tracks: dict[str, Track], stop: threading.Event) -> None:
    """500 requests per second per track, a share of them 5xx, all fast."""
    while not stop.is_set():
        for track in tracks.values():
            errors = round(100 * track.error_ratio)
            track.requests.labels(status="5xx").inc(errors)
            track.requests.labels(status="2xx").inc(100 - errors)
            for _ in range(100):
                track.duration.observe(0.04)
        time.sleep(0.2)


def _promtool_dir() -> Path:
    promtool = os.environ.get("PROMTOOL") or str(REPO / ".tools/prometheus/usr/bin/promtool")
    return Path(promtool).resolve().parent


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Track]]]:
    binary = _promtool_dir() / "prometheus"
    assert binary.exists(), f"{binary} missing: run `make tools`"
    tracks = {"stable": _track(0.01), "canary": _track(0.01)}
    folder = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "app",
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{t.port}"],
                        "labels": {"namespace": "tbcoin-prod", "app": "inference", "track": name},
                    }
                    for name, t in tracks.items()
                ],
            }
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    server = subprocess.Popen(
        [str(binary), f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stop = threading.Event()
    feeder = threading.Thread(target=_traffic, args=(tracks, stop), daemon=True)
    feeder.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("prometheus did not become ready")
        yield url, tracks
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=10)
        assert server.poll() is not None, "prometheus left running"


def _config():  # type: ignore[no-untyped-def]
    path = REPO / "Pulumi.prod.yaml"
    return load_stack(path.name, read_stack_file(path).config, stack="prod")


def _wait_for_samples(seconds: float = 12) -> None:
    time.sleep(seconds)


def test_verdict_follows_the_canarys_error_rate(prometheus: tuple[str, dict[str, Track]]) -> None:
    url, tracks = prometheus
    config = _config()
    svc = next(s for s in monitored_services(config) if s.name == "inference")
    thresholds = config.monitoring.thresholds
    _wait_for_samples()
    healthy = analyse_canary(url, svc, thresholds, WINDOW)
    assert healthy.conclusive and healthy.healthy, healthy.render()
    assert healthy.measurements["canary error ratio"] == pytest.approx(0.01, abs=0.005)

    run = infractl("canary", "advance", "--stack", "prod", "--service", "inference",
                   "--prometheus", url, "--window", WINDOW, "--dry-run")  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    assert "Canary analysis: healthy" in run.stdout
    assert "'tbcoin-platform:services.inference.strategy.weight' 25" in run.stdout

    # Past the analysis, applying needs the real CLI: the command stops there, clearly.
    no_cli = {"PATH": "/usr/bin:/bin"}
    run = infractl("canary", "advance", "--stack", "prod", "--service", "inference",
                   "--prometheus", url, "--window", WINDOW, env=no_cli)  # fmt: skip
    assert run.code == 2
    assert "could not open stack 'prod' with the pulumi CLI" in run.stderr

    tracks["canary"].error_ratio = 0.25
    _wait_for_samples()
    unhealthy = analyse_canary(url, svc, thresholds, WINDOW)
    assert unhealthy.conclusive and not unhealthy.healthy
    assert any("> threshold" in r for r in unhealthy.reasons)
    run = infractl("canary", "advance", "--stack", "prod", "--service", "inference",
                   "--prometheus", url, "--window", WINDOW)  # fmt: skip
    assert run.code == 1
    assert "refused: the canary is not healthy" in run.stdout


def test_no_canary_traffic_is_inconclusive(prometheus: tuple[str, dict[str, Track]]) -> None:
    url, _ = prometheus
    config = _config()
    svc = next(s for s in monitored_services(config) if s.name == "api")
    verdict = analyse_canary(url, svc, config.monitoring.thresholds, WINDOW)
    assert not verdict.conclusive and not verdict.healthy


def test_unreachable_prometheus_is_a_clear_error() -> None:
    run = infractl("canary", "advance", "--stack", "prod", "--service", "inference",
                   "--prometheus", f"http://127.0.0.1:{_free_port()}", "--dry-run")  # fmt: skip
    assert run.code == 2
    assert "did not answer" in run.stderr


# ---- the moves themselves ----


def test_canary_moves_walk_the_step_plan() -> None:
    config = _config()
    (advance,) = canary_move(config, "inference", "advance")
    assert (advance.path, advance.old, advance.new) == ("services.inference.strategy.weight", 5, 25)
    promote = canary_move(config, "inference", "promote")
    assert [(c.path.rsplit(".", 1)[1], c.new) for c in promote] == [
        ("stable", config.services["inference"].strategy.canary),  # type: ignore[union-attr]
        ("weight", 0),
    ]
    (abort,) = canary_move(config, "inference", "abort")
    assert abort.new == 0


def test_moves_that_make_no_sense_are_refused() -> None:
    config = _config()
    with pytest.raises(MoveRefused, match="not released as a canary"):
        canary_move(config, "api", "advance")
    with pytest.raises(MoveRefused, match="not released blue-green"):
        bluegreen_move(config, "inference")
    at_max = config.model_copy(deep=True)
    at_max.services["inference"].strategy.__dict__["max_weight"] = 20
    with pytest.raises(MoveRefused, match=r"next step \(25%\) is above maxWeight 20%"):
        canary_move(at_max, "inference", "advance")


def test_blue_green_switch_is_validated_before_anything_runs() -> None:
    path = REPO / "Pulumi.prod.yaml"
    stack_file = read_stack_file(path)
    changes = bluegreen_move(_config(), "api")
    after = validate_move("prod", path.name, stack_file, changes)
    assert after.services["api"].strategy.active_color == "green"  # type: ignore[union-attr]
    run = infractl("bluegreen", "rollback", "--stack", "prod", "--service", "api", "--dry-run")
    assert run.code == 0
    assert "activeColor: blue -> green" in run.stdout
