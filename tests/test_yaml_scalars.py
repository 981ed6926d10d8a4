"""Stack files resolve scalars as the engine's YAML reader does (YAML 1.2 core schema), not as
YAML 1.1 does (issue 24): `port: 1:20` was the sexagesimal 80, `retention: 2024-01-01` a date
that raised a traceback, `protect: yes` a boolean the engine would not see; `.nan`/`.inf` named
the whole section instead of the key.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.config.documents import parse_yaml
from tests.conftest import REPO, config_problems, infractl

YAML_1_1_ONLY = st.one_of(
    st.builds("{}:{:02d}".format, st.integers(1, 999), st.integers(0, 59)),  # sexagesimal int
    st.builds("{}:{:02d}.5".format, st.integers(1, 999), st.integers(0, 59)),  # ... and float
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),  # timestamp
    st.builds("{}_{:03d}".format, st.integers(1, 999), st.integers(0, 999)),  # 1_000
    st.sampled_from(["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "0b101"]),
    st.sampled_from(["0755", "08", "0o17", "1e3"]),  # not numbers here: quote or write them plainly
)


@given(YAML_1_1_ONLY)
def test_yaml_1_1_only_scalars_are_strings(scalar: str) -> None:
    assert parse_yaml(f"value: {scalar}\n") == {"value": scalar}


@given(st.integers(-(10**12), 10**12))
def test_integers_stay_integers(number: int) -> None:
    assert parse_yaml(f"value: {number}\n") == {"value": number}


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_stay_floats(number: float) -> None:
    assert parse_yaml(yaml.safe_dump({"value": number})) == {"value": number}


@given(st.text())
def test_what_pyyaml_writes_reads_back_the_same(value: str) -> None:
    assert parse_yaml(yaml.safe_dump({"value": value})) == {"value": value}


def test_core_schema_forms() -> None:
    assert parse_yaml("c: 0x1F\nd: true\ne: FALSE\nf: 1.0e+3\ng: ~\nh: -.inf\n") == {
        "c": 31, "d": True, "e": False, "f": 1000.0, "g": None, "h": -math.inf,
    }  # fmt: skip


def _stack_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "Pulumi.prod.yaml").read_text()
    assert old in text
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    port: 8000", "    port: 133:20", "app.port: must be an integer (got '133:20')"),
        (
            "      retention: 30d",
            "      retention: 2024-01-01",
            "monitoring.prometheus.retention: must be a duration: an integer and a unit ms, s, m, "
            "h or d, such as 500ms, 30s, 10m, 7d (got '2024-01-01')",
        ),
        ("    protect: true", "    protect: yes", "monitoring.protect: must be true or false"),
        (
            "      latencyP99: 1s\n      errorRatio: 0.02",
            "      latencyP99: 1s\n      errorRatio: .nan",
            "monitoring.thresholds.errorRatio: must be a finite number (got .nan or .inf)",
        ),
    ],
    ids=["sexagesimal-port", "date-as-duration", "yes-as-bool", "nan"],
)
def test_the_cli_names_the_file_and_key(old: str, new: str, expected: str, tmp_path: Path) -> None:
    path = _stack_with(tmp_path, old, new)
    run = infractl("scorecard", "--stack", "prod", "--config-file", path)
    assert run.code == 2 and run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"{path}: tbcoin-platform:{expected}"), run.stderr
    assert run.stderr.count("\n") == 1


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([math.nan, math.inf, -math.inf]))
def test_a_non_finite_number_is_named_at_its_key(number: float) -> None:
    def mutate(config: dict[str, Any]) -> None:
        config["tbcoin-platform:monitoring"]["thresholds"]["errorRatio"] = number

    with tempfile.TemporaryDirectory() as folder:
        report = config_problems(mutate, Path(folder))
    assert report.startswith(
        "Pulumi.prod.yaml: tbcoin-platform:monitoring.thresholds.errorRatio: "
        "must be a finite number"
    ), report
