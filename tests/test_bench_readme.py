"""bench/README.md is generated from bench/results/ and must not go stale; `make bench`'s scale
part reports a failed or overrun run as such, never as a time, and states each target's verdict."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from bench import readme, scale
from bench.measure import OK, check_verdict, measure


def test_the_bench_readme_is_what_the_results_give() -> None:
    assert readme.README.read_text() == readme.render(), (
        "bench/README.md is stale: run `python -m bench.readme` (make bench does)"
    )


def test_a_new_result_changes_the_readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staleness check's mutation: a newer result file is what the page then shows."""
    for path in readme.RESULTS.glob("*.json"):
        shutil.copy(path, tmp_path)
    monkeypatch.setattr(readme, "RESULTS", tmp_path)
    before = readme.render()
    results = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))]
    result = [r for r in results if r.get("inner_loop")][-1]
    result["when"] = "2099-01-01T00:00:00Z"
    result["inner_loop"]["plan"]["prod"] = 9.87
    (tmp_path / "2099-01-01T000000Z.json").write_text(json.dumps(result))
    after = readme.render()
    assert after != before and "make plan prod: 9.87s" in after


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_crash_that_exits_1_is_a_failure_not_a_check_verdict() -> None:
    crash = _python("import sys; sys.stderr.write('Traceback\\nOSError: E2BIG\\n'); sys.exit(1)")
    result = measure(crash, verdict=check_verdict)
    assert result["status"] == "failed: exit 1: OSError: E2BIG"
    verdict = _python("print('{\"violations\": [1]}'); raise SystemExit(1)")
    assert measure(verdict, verdict=check_verdict)["status"] == OK


def test_an_overrun_is_reported_and_the_run_stopped() -> None:
    result = measure(_python("import time; time.sleep(60)"), timeout=0.5)
    assert result["status"] == "timed out after 0.5 s"
    assert result["seconds"] < 30  # stopped at its deadline, not left to finish


def _row(repositories: int, resources: int, seconds: float, mib: float = 500.0) -> dict:
    return {"repositories": repositories, "status": OK, "resources": resources,
            "seconds": seconds, "cpu_seconds": seconds, "peak_mib": mib,
            "ms_per_resource": 1000 * seconds / resources,
            "cpu_ms_per_resource": 1000 * seconds / resources}  # fmt: skip


def _scaled(rows: list[dict]) -> dict:
    return {"rows": rows, "exponent": scale.exponent(rows),
            "cpu_exponent": scale.exponent(rows, "cpu_seconds"),
            "targets": {"repositories": 1000, "seconds": 90.0, "peak_mib": 2048.0,
                        "exponent": 1.1}}  # fmt: skip


def test_the_scale_report_states_each_target() -> None:
    rows = [_row(100, 3000, 10.0), _row(1000, 30000, 80.0, 1900.0)]
    text = scale.report(_scaled(rows))
    assert "growth exponent 100->1000 repositories: 0.903 (CPU 0.903), target <= 1.1: met" in text
    assert "1000 repositories: 80.0 s, target <= 90 s: met; 1900 MiB, target <= 2048 MiB: met" in (
        text
    )
    slow = scale.report(_scaled([_row(100, 3000, 10.0), _row(1000, 30000, 200.0)]))
    assert "target <= 1.1: NOT met" in slow and "target <= 90 s: NOT met" in slow


def test_a_failed_largest_size_is_shown_as_such_with_no_exponent() -> None:
    failed = {"repositories": 1000, "status": "timed out after 600 s", "seconds": 600.0,
              "cpu_seconds": 590.0, "peak_mib": 1500.0}  # fmt: skip
    text = scale.report(_scaled([_row(100, 3000, 10.0), failed]))
    assert " 1000         - | timed out after 600 s" in text
    assert "target <= 1.1: not measured" in text
    assert "1000 repositories: timed out after 600 s, target <= 90 s: not measured" in text
    assert "600.0" not in text.split("growth")[0]  # no time shown for it
