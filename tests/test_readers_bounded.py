"""Every file infractl reads is bounded in time as well as size (issue 24).

A FIFO nobody writes to, a folder or a device given where a file belongs is one line naming what
it is, exit 2, within seconds: never a hang, a traceback or "not found". Engine output without
the engine's summary is an error, never "no changes" or "in sync"; resources.json that is empty
or lists a URN twice is refused; engine text is redacted like config errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, Run, infractl

EVENTS = REPO / "vendor/pulumi-engine-outputs"
REFRESH = EVENTS / "pulumi-lifecycle-TestRefreshBasics-all-0-0-preview--eventstream.json"
SUMMARY = {"summaryEvent": {"resourceChanges": {}}}


def _special(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        return path
    if kind == "directory":
        return tmp_path
    return Path("/dev/zero")


KINDS = {"fifo": "a FIFO (named pipe)", "directory": "a directory", "device": "a character device"}


def _refused(run: Run, *parts: str) -> None:
    assert run.code == 2, run
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    for part in parts:
        assert part in run.stderr, run.stderr


# Each command that reads a file named on its command line (or by the environment).
READERS: dict[str, Callable[[Path], tuple[list[str | Path], dict[str, str]]]] = {
    "preview-report --event-log": lambda p: (
        ["preview-report", "--event-log", p, "--stack", "dev"],
        {},
    ),
    "drift --input": lambda p: (["drift", "--stack", "prod", "--input", p], {}),
    "drift --resources": lambda p: (
        ["drift", "--stack", "prod", "--input", REFRESH, "--resources", p],
        {},
    ),
    "scorecard --base": lambda p: (["scorecard", "--stack", "staging", "--base", p], {}),
    "stack file": lambda p: (["scorecard", "--stack", "staging", "--config-file", p], {}),
    "check --policy-config": lambda p: (
        ["check", "--stack", "staging", "--from", "/nonexistent", "--policy-config", p],
        {},
    ),
    "KUBECONFIG": lambda p: (
        ["rollout", "status", "--stack", "prod", "--service", "inference"],
        {"KUBECONFIG": str(p)},
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_special_file_is_named_not_read(reader: str, kind: str, tmp_path: Path) -> None:
    path = _special(kind, tmp_path)
    args, env = READERS[reader](path)
    if reader == "check --policy-config" or (reader == "scorecard --base" and kind == "fifo"):
        pytest.skip("read after the synth or the resources.json check; covered by the others")
    run = infractl(*args, env=env)  # the helper's own time-out (300 s) fails a hang
    _refused(run, str(path), f"is {KINDS[kind]}, not a regular file")


def test_a_nul_byte_in_a_stack_file_is_one_line(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.staging.yaml"
    stack.write_bytes((REPO / "Pulumi.staging.yaml").read_bytes() + b'  extra: "a\x00b"\n')
    run = infractl("synth", "--stack", "staging", "--config-file", stack, "--out", tmp_path / "o")
    _refused(run, f"{stack}: ", "character U+0000 is not allowed in YAML")


# No deadline: on a loaded machine the first parser built can take longer than hypothesis' 200 ms
# (a timed assertion, which the tests do not make).
@settings(deadline=None)
@given(st.one_of(st.sampled_from(["nan", "inf", "-inf", "0", "-0", "1e999"]), st.floats()))
def test_a_timeout_must_be_finite_and_positive(value: str | float) -> None:
    """`--timeout nan` raised; `inf` never expired; 0 was reported as the pack timing out."""
    from infractl.cli import MAX_TIMEOUT
    from infractl.cli import parser as cli_parser

    text = str(value)
    try:
        seconds = float(text)
        valid = 0 < seconds <= MAX_TIMEOUT
    except ValueError:
        valid = False
    parser = cli_parser()
    if valid:
        assert parser.parse_args(["check", "--stack", "s", "--timeout", text]).timeout == seconds
    else:
        with pytest.raises(SystemExit) as raised:
            parser.parse_args(["check", "--stack", "s", "--timeout", text])
        assert raised.value.code == 2


def test_a_bad_timeout_is_a_usage_error_before_anything_runs() -> None:
    run = infractl("check", "--stack", "staging", "--timeout", "nan")
    assert run.code == 2 and run.stdout == ""
    assert "argument --timeout: 'nan' is not a number of seconds above 0" in run.stderr


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[]", "it lists no resources"),
        (
            json.dumps([{"urn": "urn:pulumi:s::p::t::a", "type": "t", "inputs": {}}] * 2),
            "URN 'urn:pulumi:s::p::t::a' is listed more than once",
        ),
        ('{"urn": "x"}', "a list of resources"),
    ],
    ids=["empty", "duplicate-urn", "not-a-list"],
)
@pytest.mark.parametrize("command", ["check --from", "scorecard --base", "drift --resources"])
def test_resources_json_that_no_synth_wrote_is_refused(
    command: str, content: str, why: str, tmp_path: Path
) -> None:
    path = tmp_path / "resources.json"
    path.write_text(content)
    args: list[str | Path] = {
        "check --from": ["check", "--stack", "staging", "--from", tmp_path],
        "scorecard --base": ["scorecard", "--stack", "staging", "--base", path],
        "drift --resources": ["drift", "--stack", "prod", "--input", REFRESH, "--resources", path],
    }[command]
    _refused(infractl(*args), f"{path}: not a synth output", why)


def _cut(tmp_path: Path) -> Path:
    lines = [line for line in REFRESH.read_text().splitlines() if "summaryEvent" not in line]
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("command", ["preview-report", "drift", "drift --pending-input"])
def test_an_engine_stream_without_its_summary_is_an_error(command: str, tmp_path: Path) -> None:
    """A cut stream read as "no changes" / "no drift" could close the drift issue."""
    cut = _cut(tmp_path)
    args: list[str | Path] = {
        "preview-report": ["preview-report", "--event-log", cut, "--stack", "dev"],
        "drift": ["drift", "--stack", "prod", "--input", cut],
        "drift --pending-input": [
            "drift", "--stack", "prod", "--input", REFRESH, "--pending-input", cut,
        ],
    }[command]  # fmt: skip
    _refused(infractl(*args), f"{cut}: no summary from the engine")


def test_a_preview_document_without_its_change_summary_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"steps": [], "diagnostics": []}))
    _refused(infractl("preview-report", "--input", path, "--stack", "dev"), "no summary")


GITHUB_TOKEN = "ghp_" + "A1b2C3d4" * 5
AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"
URL_PASSWORD = "postgres://admin:hunter2@db.example:5432/app"


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_engine_messages_are_redacted_in_the_preview_report(fmt: str, tmp_path: Path) -> None:
    urn = "urn:pulumi:dev::p::t:m:T::a"
    events = [
        {"diagnosticEvent": {"severity": "error", "urn": urn, "message": f"{GITHUB_TOKEN} x"}},
        {"diagnosticEvent": {"severity": "warning", "message": f"connect {URL_PASSWORD}"}},
        {"policyEvent": {"policyName": "p", "resourceUrn": urn, "message": f"key {AWS_KEY}"}},
        SUMMARY,
    ]
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(map(json.dumps, events)) + "\n")
    run = infractl("preview-report", "--event-log", log, "--stack", "dev", "--format", fmt)
    assert run.code == 0, run
    for secret in (GITHUB_TOKEN, AWS_KEY, "hunter2"):
        assert secret not in run.stdout
    assert run.stdout.count("redacted") == 3  # Markdown escapes the brackets


def test_live_values_are_redacted_in_the_drift_report(tmp_path: Path) -> None:
    urn = "urn:pulumi:prod::tbcoin-platform::github:index/repository:Repository::r"
    sides = {
        side: {"id": "r", "inputs": {"description": f"{side} {GITHUB_TOKEN}"}}
        for side in ("old", "new")
    }
    meta = {
        "op": "update", "urn": urn, "type": "github:index/repository:Repository", **sides,
        "detailedDiff": {"description": {"diffKind": "update"}},
    }  # fmt: skip
    log = tmp_path / "refresh.jsonl"
    events = [{"resOutputsEvent": {"metadata": meta}}, SUMMARY]
    log.write_text("\n".join(map(json.dumps, events)) + "\n")
    run = infractl("drift", "--stack", "prod", "--input", log)
    assert run.code == 1, run
    assert GITHUB_TOKEN not in run.stdout and '"old [redacted]"' in run.stdout
