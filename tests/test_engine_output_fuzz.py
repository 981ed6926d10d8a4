"""Engine output never crashes the tools: recorded (and constructed) outputs mutated at random
(types swapped, keys dropped, wrong nesting, bytes changed, cut short) give a report, possibly
saying what it skipped, or one EngineOutputError line; nothing else escapes parsing, the PR
report, the drift analysis or its Markdown. Derandomized in CI, bounded in examples."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infractl.ops.drift import analyse, drift_markdown
from infractl.ops.engine_output import EngineOutputError, decode_engine_output
from infractl.ops.preview_report import json_report, markdown_report
from tests.conftest import infractl, vendored

SOURCES = [
    *sorted(vendored("pulumi-engine-outputs").glob("*.json")),
    *sorted((Path(__file__).parent / "engine_outputs").glob("*.jsonl")),
]
DOCUMENTS = {p.name: p.read_text() for p in SOURCES}
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    # Containers are built fresh for each draw: a later mutation must not change a shared one.
    st.builds(list), st.builds(dict), st.builds(lambda: [{"urn": 1}]),
    st.builds(lambda: {"metadata": "x"}),
    st.just("urn:pulumi:s::p::t:m:T::`@x </details>"), st.just(10**30),
)  # fmt: skip


def _nodes(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*at, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:20]):
            found += _nodes(child, (*at, i))
    return found


@st.composite
def mutated_outputs(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(DOCUMENTS)))
    raw = DOCUMENTS[name]
    lines = raw.splitlines()
    one_document = not raw.lstrip().startswith('{"')
    docs = [json.loads(raw)] if one_document else [json.loads(line) for line in lines]
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(docs) - 1))
        nodes = _nodes(docs[i])
        at = nodes[draw(st.integers(0, len(nodes) - 1))]
        action = draw(st.sampled_from(["swap", "drop", "nest", "list"]))
        if not at:
            docs[i] = draw(ODD_VALUES) if action == "swap" else [docs[i]]
            continue
        parent = docs[i]
        for key in at[:-1]:
            parent = parent[key]
        key = at[-1]
        if action == "swap":
            parent[key] = draw(ODD_VALUES)
        elif action == "drop":
            del parent[key]
        elif action == "nest":
            parent[key] = {"value": copy.deepcopy(parent[key])}
        else:
            parent[key] = [parent[key]]
    text = json.dumps(docs[0]) if one_document else "\n".join(json.dumps(d) for d in docs)
    data = text.encode()
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(max_size=8)) + data[position + 1 :]
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=bool(os.environ.get("CI")),
)
@given(mutated_outputs())
def test_mutated_engine_output_never_raises_anything_else(data: bytes) -> None:
    try:
        report = decode_engine_output("fuzz", data)
    except EngineOutputError as exc:
        assert "\n" not in str(exc)
        return
    markdown_report([("fuzz", report)])
    json_report([("fuzz", report)])
    drift_markdown(analyse("fuzz", report, report, None))


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\xff\xfe{\x00", "not UTF-8 text"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"steps": [{"urn": "u", "op": "update"}], "changeSummary": ' + b"9" * 5000 + b"}",
         "not Pulumi engine output"),
        (b"[1, 2]", "expected a JSON object"),
        (b"{not json\nat all}", "no Pulumi engine events found"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["drift", "preview-report"])
def test_malformed_shapes_are_one_line_and_exit_2(
    tmp_path: Path, content: bytes, says: str, command: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    args = ["--stack", "prod", "--input", bad] if command == "drift" else ["--input", bad]
    run = infractl(command, *args)
    assert run.code == 2, run.stderr
    assert len(run.stderr.splitlines()) == 1 and says in run.stderr


def test_a_log_over_the_size_limit_is_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infractl.ops import engine_output

    monkeypatch.setattr(engine_output, "MAX_BYTES", 1000)
    with pytest.raises(EngineOutputError, match="larger than 1,000 bytes; not engine output"):
        decode_engine_output("huge", DOCUMENTS[SOURCES[0].name].encode() * 10)


# --- engine output must agree with itself ------------------------------------------------------
# Every recorded output is consistent (one stack, summary last, counts equal); each way of making
# it disagree is an EngineOutputError, and through the commands one line and exit 2: never a
# report with fewer changes, "no changes" or "No drift".

RECORDED = Path(__file__).parent / "engine_outputs" / "recorded"
# Event logs of runs that finished (a failed run is shown as failed whatever it counted).
EVENT_LOGS = {
    name: text.splitlines()
    for name, text in DOCUMENTS.items()
    if text.lstrip().startswith('{"')
    and "resourcePreEvent" in text
    and not decode_engine_output(name, text.encode()).failed
}
RESOURCE_EVENTS = ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent")


def _kind(line: str) -> str:
    return next(k for k in json.loads(line) if k not in ("sequence", "timestamp"))


def _urn(line: str) -> str:
    event = json.loads(line)
    return str(event[_kind(line)]["metadata"]["urn"])


def test_every_recorded_and_vendored_output_agrees_with_itself() -> None:
    for name, text in DOCUMENTS.items():
        decode_engine_output(name, text.encode())  # raises if it did not


@st.composite
def one_step_dropped(draw: st.DrawFn) -> tuple[str, str]:
    """An event log with every event of one resource taken out, but its summary kept."""
    name = draw(st.sampled_from(sorted(EVENT_LOGS)))
    lines = EVENT_LOGS[name]
    urns = sorted({_urn(line) for line in lines if _kind(line) in RESOURCE_EVENTS})
    urn = draw(st.sampled_from(urns))
    kept = [line for line in lines if not (_kind(line) in RESOURCE_EVENTS and _urn(line) == urn)]
    return name, "\n".join(kept)


@settings(max_examples=60, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(one_step_dropped())
def test_a_resource_missing_from_the_events_is_never_a_smaller_report(
    dropped: tuple[str, str],
) -> None:
    name, text = dropped
    with pytest.raises(EngineOutputError, match=r"summary counts .* but its events show"):
        decode_engine_output(name, text.encode())


@settings(max_examples=40, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(st.sampled_from(sorted(EVENT_LOGS)), st.data())
def test_a_summary_before_the_last_event_is_an_error(name: str, data: st.DataObject) -> None:
    lines = [line for line in EVENT_LOGS[name] if _kind(line) != "cancelEvent"]
    summary = next(i for i, line in enumerate(lines) if _kind(line) == "summaryEvent")
    to = data.draw(st.integers(0, summary - 1))
    moved = [*lines[:to], lines[summary], *lines[to:summary]]
    with pytest.raises(EngineOutputError, match=r"summary .* is followed by a"):
        decode_engine_output(name, "\n".join(moved).encode())


@settings(max_examples=40, deadline=None, derandomize=bool(os.environ.get("CI")))
@given(st.sampled_from(sorted(EVENT_LOGS)), st.data())
def test_an_event_of_another_stack_is_an_error(name: str, data: st.DataObject) -> None:
    lines = list(EVENT_LOGS[name])
    resource = [i for i, line in enumerate(lines) if _kind(line) in RESOURCE_EVENTS]
    i = data.draw(st.sampled_from(resource))
    stack = _urn(lines[i]).split(":")[2]
    lines[i] = lines[i].replace(f"urn:pulumi:{stack}::", "urn:pulumi:other-stack::")
    with pytest.raises(EngineOutputError, match=r"resources of 2 stacks .* in one output"):
        decode_engine_output(name, "\n".join(lines).encode())


def test_two_runs_joined_are_an_error() -> None:
    staging = (RECORDED / "staging-preview.jsonl").read_text()
    prod = (RECORDED / "prod-preview.jsonl").read_text()
    again = (RECORDED / "prod-drift-preview.jsonl").read_text()
    with pytest.raises(EngineOutputError, match="resources of 2 stacks"):
        decode_engine_output("joined", (staging + prod).encode())
    with pytest.raises(EngineOutputError, match="followed by a preludeEvent"):
        decode_engine_output("joined", (prod + again).encode())  # one stack, two runs


@pytest.mark.parametrize(
    "fixture", [n for n in DOCUMENTS if not DOCUMENTS[n].lstrip().startswith('{"')]
)
def test_steps_cut_from_a_preview_document_are_an_error(fixture: str) -> None:
    document = json.loads(DOCUMENTS[fixture])
    changing = [s for s in document["steps"] if s["op"] != "same"]
    document["steps"] = [s for s in document["steps"] if s is not changing[0]]
    with pytest.raises(EngineOutputError, match=r"summary counts .* but its steps show"):
        decode_engine_output(fixture, json.dumps(document).encode())


def _refresh_with(tmp_path: Path, **summary: Any) -> Path:
    """The real prod refresh (drift: one update, one delete) with its summary changed."""
    lines = (RECORDED / "prod-refresh-preview-only.jsonl").read_text().splitlines()
    out = []
    for line in lines:
        event = json.loads(line)
        if "summaryEvent" in event:
            event["summaryEvent"].update(summary)
        out.append(json.dumps(event))
    path = tmp_path / "refresh.jsonl"
    path.write_text("\n".join(out) + "\n")
    return path


def _drifted_events_removed(tmp_path: Path) -> Path:
    """The issue's case: the summary counts an update and a delete, their events are gone."""
    lines = (RECORDED / "prod-refresh-preview-only.jsonl").read_text().splitlines()
    drifted = {
        _urn(line)
        for line in lines
        if _kind(line) == "resOutputsEvent"
        and json.loads(line)[_kind(line)]["metadata"]["op"] in ("update", "delete")
    }
    kept = [
        line for line in lines if not (_kind(line) in RESOURCE_EVENTS and _urn(line) in drifted)
    ]
    path = tmp_path / "refresh.jsonl"
    path.write_text("\n".join(kept) + "\n")
    return path


UNUSABLE = {
    "drifted events missing": (_drifted_events_removed, "summary counts 1 delete"),
    "result failed": (
        lambda tmp: _refresh_with(tmp, result="failed"),
        "the run failed (its summary says",
    ),
    "maybe corrupt": (
        lambda tmp: _refresh_with(tmp, result="failed", maybeCorrupt=True),
        "maybeCorrupt",
    ),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_drift_on_output_that_cannot_be_trusted_is_one_line_and_exit_2(
    tmp_path: Path, case: str
) -> None:
    make, says = UNUSABLE[case]
    run = infractl("drift", "--stack", "prod", "--input", make(tmp_path))
    assert run.code == 2, run
    assert run.stdout == "" and len(run.stderr.splitlines()) == 1 and says in run.stderr


def _sync(github: Any, log: Path) -> int:
    return infractl(
        "drift", "--stack", "prod", "--input", log, "--open-issue", "--repo", github.repo,
        "--author", "infra-bot", env={"GITHUB_TOKEN": "token", "GITHUB_API_URL": github.base},
    ).code  # fmt: skip


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_open_issue_never_closes_the_drift_issue_on_such_output(
    tmp_path: Path, case: str, github: Any
) -> None:
    make, _ = UNUSABLE[case]
    assert _sync(github, RECORDED / "prod-refresh-preview-only.jsonl") == 1  # opened
    assert _sync(github, make(tmp_path)) == 2
    assert [i["state"] for i in github.issues.values()] == ["open"]
    # Mutation: a real no-drift run does close it, so the check above can fail.
    assert _sync(github, RECORDED / "prod-drift-preview.jsonl") == 0
    assert [i["state"] for i in github.issues.values()] == ["closed"]


@pytest.mark.parametrize("summary", [{"result": "failed"}, {"maybeCorrupt": True}])
def test_a_failed_preview_is_shown_as_failed_never_as_no_changes(
    tmp_path: Path, summary: dict[str, Any]
) -> None:
    lines = (RECORDED / "prod-drift-preview.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for event in events:
        event.get("summaryEvent", {}).update(summary)
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(map(json.dumps, events)) + "\n")
    run = infractl("preview-report", "--event-log", log, "--stack", "prod")
    assert run.code == 2, run
    assert "no changes" not in run.stdout and "failed, not a complete plan" in run.stdout
    assert len(run.stderr.splitlines()) == 1 and "prod: the run failed" in run.stderr


@pytest.mark.parametrize("command", ["drift", "preview-report"])
def test_the_output_of_another_stack_is_refused(command: str) -> None:
    log = RECORDED / "staging-drift-preview.jsonl"
    args = ["--stack", "prod", "--input" if command == "drift" else "--event-log", log]
    run = infractl(command, *args)
    assert run.code == 2 and len(run.stderr.splitlines()) == 1
    assert "stack 'staging'" in run.stderr and "'prod'" in run.stderr
