"""History Prometheus really holds: an SLO window of a service's traffic written as OpenMetrics
and turned into TSDB blocks by promtool (`promtool tsdb create-blocks-from openmetrics`), into
the data folder of the harness's Prometheus before it starts. The error budget the stack's own
recording rules then compute over `slo.window` is read from these samples, as it would be from
weeks of scrapes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from e2e.errors import HarnessError
from e2e.tools import TOOLS

PROMTOOL = TOOLS / "prometheus" / "usr" / "bin" / "promtool"
# One sample every STEP seconds: enough for a window of weeks, few enough to write quickly.
STEP = 600


@dataclass(frozen=True)
class History:
    """`requests_per_second` of one service's user-facing track for `seconds` up to `end`
    (epoch seconds), `error_ratio` of them answered 5xx. `instance` tells these series from
    the live ones (pods that came and went)."""

    labels: Mapping[str, str]
    requests_per_second: float
    error_ratio: float
    seconds: float
    end: float
    instance: str = "backfill"


def budget_left(histories: list[History], objective: float) -> float:
    """The share of the availability budget (1 - `objective`) `histories` leave: what the
    stack's recording rule reads from them alone (1 untouched, 0 spent, below 0 overspent)."""
    total = sum(h.requests_per_second * h.seconds for h in histories)
    bad = sum(h.requests_per_second * h.seconds * h.error_ratio for h in histories)
    return 1 - bad / total / (1 - objective)


def openmetrics(histories: list[History]) -> str:
    """The counters of `histories` as one OpenMetrics exposition with timestamps."""
    lines = ["# HELP http_requests requests", "# TYPE http_requests counter"]
    for h in histories:
        start = h.end - h.seconds
        samples = int(h.seconds // STEP) + 1
        for status, share in (("2xx", 1 - h.error_ratio), ("5xx", h.error_ratio)):
            labels = {**h.labels, "status": status, "instance": h.instance}
            shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            per_sample = h.requests_per_second * STEP * share
            lines += [
                f"http_requests_total{{{shown}}} {per_sample * i:.3f} {start + i * STEP:.0f}"
                for i in range(samples)
            ]
    return "\n".join([*lines, "# EOF"]) + "\n"


def write_blocks(histories: list[History], data: Path) -> dict[str, float]:
    """The blocks of `histories` in Prometheus' data folder `data` (Prometheus not running on
    it); returns how long it took and how many samples were written."""
    if not PROMTOOL.is_file():
        raise HarnessError(f"{PROMTOOL} is missing: run `make tools`")
    data.mkdir(parents=True, exist_ok=True)
    source = data.parent / f"backfill-{int(time.time() * 1000)}.om.txt"
    text = openmetrics(histories)
    source.write_text(text)
    started = time.monotonic()
    done = subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics",
         "--max-block-duration=744h", str(source), str(data)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise HarnessError(f"promtool create-blocks-from openmetrics: {done.stderr.strip()[-400:]}")
    samples = text.count("\n") - 3
    return {"seconds": round(time.monotonic() - started, 1), "samples": samples}
