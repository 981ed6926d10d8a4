"""`make bench`'s real-engine part: without the e2e binaries one line naming what is missing,
exit 0 and nothing measured; its report states targets and per-resource costs; a bad repeat
count stops the bench naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import engine as bench_engine


def test_without_the_e2e_binaries_it_says_so_and_measures_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_engine, "BIN", tmp_path)
    (tmp_path / "pulumi").write_text("")
    ran: list[str] = []
    monkeypatch.setattr(bench_engine, "stack_figures", lambda *a: ran.append("stack"))
    assert bench_engine.main() == 0
    out = capsys.readouterr().out
    assert out.startswith("bench: real-engine figures skipped: pulumi-resource-kubernetes, etcd,")
    assert "`make e2e-tools` builds them" in out and out.count("\n") == 1
    assert not ran


def test_the_report_states_targets_and_per_resource_costs() -> None:
    figures = {
        "resources": 60,
        "up_empty_cluster": {"seconds": 42.0},
        "first_no_change_preview": {"seconds": 9.0},
        "preview_with_pack": 6.0,
        "preview_without_pack": 5.0,
        "offline_plan": 2.0,
        "pack_cost_ratio": 1.2,
        "preview_over_offline_plan": 3.0,
    }
    row = {
        "services": 10,
        "resources": 90,
        "preview": {"seconds": 18.0, "peak_mib": 500.0},
        "synth": {"seconds": 3.0, "peak_mib": 120.0},
        "preview_ms_per_resource": 200.0,
        "synth_ms_per_resource": 33.3,
    }
    text = bench_engine.report({"rounds": 3, "stacks": {"prod": figures}, "scale": [row]})
    assert "prod: 60 resources; up on an empty cluster 42.0s" in text
    assert "(pack 1.2x, target <= 1.2x)" in text and "(preview/plan 3.0x, target >= 5x)" in text
    assert "  10        90 |     18.00  200.0    500 |    3.00   33.3    120" in text


@pytest.mark.parametrize("raw", ["0", "-1", "x", "2.5", ""])
def test_a_bad_repeat_count_stops_the_bench_naming_the_variable(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.record import count_from_env

    monkeypatch.setenv("BENCH_ENGINE_ROUNDS", raw)
    with pytest.raises(SystemExit, match=f"BENCH_ENGINE_ROUNDS must be .* \\(got '{raw}'\\)"):
        count_from_env("BENCH_ENGINE_ROUNDS", 3)
    monkeypatch.setenv("BENCH_ENGINE_ROUNDS", "5")
    assert count_from_env("BENCH_ENGINE_ROUNDS", 3) == 5


@pytest.mark.parametrize("raw", ["0", "-5", "x", "nan", "inf", ""])
def test_a_bad_duration_stops_the_bench_naming_the_variable(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.record import seconds_from_env

    monkeypatch.setenv("BENCH_PLAN_TIMEOUT", raw)
    with pytest.raises(
        SystemExit, match=f"BENCH_PLAN_TIMEOUT must be seconds .* \\(got '{raw}'\\)"
    ):
        seconds_from_env("BENCH_PLAN_TIMEOUT", 600.0)
    monkeypatch.setenv("BENCH_PLAN_TIMEOUT", "2.5")
    assert seconds_from_env("BENCH_PLAN_TIMEOUT", 600.0) == 2.5
