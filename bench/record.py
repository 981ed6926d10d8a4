"""Where `make bench` keeps its figures: bench/results/<UTC time><suffix>.json, one file a run."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any

from bench.stacks import REPO
from e2e import recorded


def started() -> dict[str, Any]:
    """The fields every result file opens with."""
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        # What else ran: figures taken at a load average of 20 are not those of a quiet machine.
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def save(result: dict[str, Any], tests_before: recorded.Snapshot, suffix: str = "") -> int:
    """Write the result; exit 1 if the bench changed tests/ (only `--record` writes there)."""
    folder = REPO / "bench" / "results"
    folder.mkdir(exist_ok=True)
    name = f"{result['when'].replace(':', '')}{suffix}.json"
    (folder / name).write_text(json.dumps(result, indent=2) + "\n")
    wrote = recorded.changes(tests_before)
    if wrote:
        print(f"bench: wrote into tests/: {', '.join(wrote)}", file=sys.stderr)
    return 1 if wrote else 0


def count_from_env(name: str, default: int) -> int:
    """A repeat count from the environment: a whole number of at least 1, or the bench stops
    with one line naming the variable."""
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"bench: {name} must be a whole number of at least 1 (got {raw!r})")
    return int(raw)


def seconds_from_env(name: str, default: float) -> float:
    """A duration in seconds from the environment: a finite number above 0, or the bench stops
    with one line naming the variable."""
    raw = os.environ.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SystemExit(f"bench: {name} must be seconds above 0 (got {raw!r})")
    return value
