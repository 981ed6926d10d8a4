"""make e2e's budget gate (e2e/budget_gate.py), without Go: the history it backfills is read by a
real Prometheus (Debian's, on loopback) through the stack's own budget rules as the budget the
step expects; its judge accepts what the real controller recorded in make e2e and refuses each
other outcome; and `infractl rollout status` reads those recorded objects as the runbook says."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import stacks
from e2e.backfill import History, budget_left, write_blocks
from e2e.budget_gate import METRIC, TOLERANCE, histories, left_query, run_problems
from e2e.controlplane import free_port
from infra.config.base import in_seconds
from infra.config.monitoring import MonitoringConfig
from infra.config.rollouts import Analysis
from tests.conftest import REPO, manifests

PROMETHEUS = REPO / ".tools" / "prometheus" / "usr" / "bin" / "prometheus"
RECORDED = Path(__file__).parent / "engine_outputs" / "recorded" / "rollouts"
LABELS = {"namespace": "tbcoin-prod", "app": "api"}
_PROD = stacks.settings("prod")["config"]
_SLO = MonitoringConfig.model_validate(_PROD[f"{stacks.NS}:monitoring"]).slo
OBJECTIVE, WINDOW = _SLO.availability, in_seconds(_SLO.window)
FLOOR = Analysis.model_validate(
    _PROD[f"{stacks.NS}:services"]["api"]["strategy"]["analysis"]
).budget_floor
# The budget left before and after the bad day (60%, about -8%): rates alone decide it.
LEFT = budget_left([histories(LABELS, WINDOW, 0)[0]], OBJECTIVE)
SPENT = budget_left(list(histories(LABELS, WINDOW, 0)), OBJECTIVE)


def _budget_left_in_prometheus(
    folder: Path, rules: dict[str, Any], histories: list[History]
) -> float | None:
    """The availability budget left that Prometheus computes from `histories` (backfilled
    before it starts) with `rules`, or None when it records no such series."""
    write_blocks(histories, folder / "data")
    (folder / "rules.yml").write_text(yaml.safe_dump(rules))
    config = {"global": {"evaluation_interval": "1s"}, "rule_files": [str(folder / "rules.yml")]}
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    server = subprocess.Popen(
        [str(PROMETHEUS), f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--storage.tsdb.retention.time=30d", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    query = urllib.parse.urlencode({"query": left_query(LABELS)})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?{query}") as r:
                    found = json.load(r)["data"]["result"]
            except OSError:
                continue  # not listening yet
            if found:
                return float(found[0]["value"][1])
        return None
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def budget_rules(synthesized: Callable[[str], Path]) -> dict[str, Any]:
    """prod api's recording and budget rule groups as synthesized, evaluated every second."""
    rule = next(
        m for m in manifests(synthesized("prod"))
        if m["kind"] == "PrometheusRule" and m["metadata"]["name"] == "tbcoin-prod-api"
    )  # fmt: skip
    groups = [g for g in rule["spec"]["groups"] if g["name"].endswith((".recording", ".budget"))]
    return {"groups": [{**g, "interval": "1s"} for g in groups]}


def test_the_backfilled_history_is_the_budget_the_stacks_rules_compute(
    tmp_path: Path, budget_rules: dict[str, Any]
) -> None:
    """What the step expects (budget_left) is what Prometheus reads from the blocks promtool
    wrote, with the stack's rules: 60% left, then overspent after the bad day; a preview's
    failures (no user saw them) spend nothing."""
    if not PROMETHEUS.is_file():
        pytest.skip(f"{PROMETHEUS} is missing: run `make tools`")
    base, bad_day = histories(LABELS, WINDOW, time.time() - 60)
    left = _budget_left_in_prometheus(tmp_path / "left", budget_rules, [base])
    assert left is not None and abs(left - LEFT) < 0.01, left
    spent = _budget_left_in_prometheus(tmp_path / "spent", budget_rules, [base, bad_day])
    assert spent is not None and abs(spent - SPENT) < TOLERANCE / 5 and spent < 0, spent
    preview_day = dataclasses.replace(bad_day, labels={**bad_day.labels, "track": "preview"})
    unseen = _budget_left_in_prometheus(tmp_path / "preview", budget_rules, [base, preview_day])
    assert unseen is not None and abs(unseen - left) < 0.01


def _recorded(stage: str) -> dict[str, Any]:
    return json.loads((RECORDED / f"prod-api-{stage}.json").read_text())  # type: ignore[no-any-return]


# The pre-promotion AnalysisRuns of make e2e's budget-gate step, and the budget the history left
# when each ran.
RUNS = {"budget-left": (LEFT, False), "held-by-budget": (SPENT, False)}
OVERRIDDEN = "budget-overridden"


@pytest.mark.parametrize("name", [*RUNS, OVERRIDDEN])
def test_the_judge_accepts_what_the_controller_did(name: str) -> None:
    left, overridden = RUNS.get(name, (SPENT, True))
    assert run_problems(_recorded(f"analysisrun-{name}"), left, FLOOR, overridden) == []


def test_the_judge_refuses_every_other_outcome() -> None:
    held, passed = _recorded("analysisrun-held-by-budget"), _recorded("analysisrun-budget-left")
    overridden = _recorded(f"analysisrun-{OVERRIDDEN}")
    # A budget left that the gate held, a spent one it let through, an override it ignored
    # or a gate that failed the run in spite of it: each is a problem.
    assert run_problems(held, LEFT, FLOOR, False)
    assert run_problems(passed, SPENT, FLOOR, False)
    assert run_problems(held, SPENT, FLOOR, True)
    assert run_problems(overridden, SPENT, FLOOR, False)
    # A measurement the history does not explain (a budget read from other series).
    assert run_problems(passed, LEFT + 2 * TOLERANCE, FLOOR, False)
    # Another metric failing on its own.
    broken = json.loads(json.dumps(held))
    other = next(r for r in broken["status"]["metricResults"] if r["name"] != METRIC)
    other["phase"] = "Failed"
    assert run_problems(broken, SPENT, FLOOR, False)
