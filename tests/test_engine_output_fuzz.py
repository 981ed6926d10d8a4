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
