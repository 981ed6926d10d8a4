"""The waivers file has two readers: the config layer (pydantic, infra/config/waivers.py), which
infractl uses and which describes every field, and the pack's plain code (the pack may import
neither pydantic nor infra). They must agree: the same verdict and the same keys named, on the
examples below and on every mutation of a valid file Hypothesis tries. A rule added to one
reader only fails here."""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import waivers as config
from infra.config.documents import DocumentError, decode, parse_json
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "policies"))
from tbcoin_policies import WAIVABLE
from tbcoin_policies import waivers as pack

sys.path.remove(str(REPO / "policies"))

CLOCK = datetime.date(2026, 12, 7)
STACK, PROJECT = "staging", "tbcoin-platform"
URN = f"urn:pulumi:{STACK}::{PROJECT}::kubernetes:core/v1:Pod::privileged"


def _valid() -> dict[str, Any]:
    return {
        "policy": "k8s-pod-security-restricted",
        "urn": URN,
        "reason": "the debug pod of incident 42 needs NET_ADMIN",
        "approvedBy": "@tbcoin/security",
        "granted": "2026-12-01",
        "expires": "2027-01-15",
        "ticket": "https://github.com/tbcoin/tbcoin-platform/issues/42",
    }


def _config_paths(data: Any) -> set[str] | None:
    """None if valid, else the key paths named (the file as a whole is "")."""
    _, problems = config.validate_waivers(
        data, stack=STACK, project=PROJECT, policies=WAIVABLE, clock=CLOCK
    )
    return {p.path for p in problems} or None


def _pack_paths(data: Any) -> set[str] | None:
    _, problems = pack.validate(data, stack=STACK, project=PROJECT, policies=WAIVABLE, clock=CLOCK)
    return {p.path for p in problems} or None


# Values each field might be given: right ones and the wrong ones people write.
VALUES: dict[str, list[Any]] = {
    "policy": [
        "k8s-probes",
        "github-secret-scanning",
        "no-such-policy",
        "",
        5,
        None,
        ["k8s-probes"],
        "policy-waivers",
    ],
    "urn": [
        URN,
        f"urn:pulumi:prod::{PROJECT}::kubernetes:core/v1:Pod::privileged",
        f"urn:pulumi:{STACK}::other::kubernetes:core/v1:Pod::p",
        "privileged",
        f"urn:pulumi:{STACK}::{PROJECT}::a::b c",
        "urn:pulumi:" + "x" * 1000,
        None,
        1,
        f"urn:pulumi:{STACK}::{PROJECT}::a::b\x1b[31m",
        f"urn:pulumi:{STACK}::{PROJECT}::a::é",
        f"urn:pulumi:{STACK}::{PROJECT}::a$b:c::d",
    ],
    "name": [
        "privileged",
        "api-*",
        "*",
        "**?",
        "a*b",
        "ab?",
        "api canary",
        "x" * 101,
        "",
        None,
        True,
        "é-api",
    ],
    "reason": [
        "because it must be so",
        "short",
        "          x",
        "tab\tinside reason",
        "line\u2028separator reason",
        "bidi \u202e override reason",
        "r" * 500,
        "r" * 501,
        "",
        None,
        12345678901,
    ],
    "approvedBy": [
        "@alice",
        "@tbcoin/security",
        "alice",
        "@",
        "@-alice",
        "@a--b",
        "@a/b c",
        None,
        "security@tbcoin.example.com",
    ],
    "granted": [
        "2026-12-01",
        "2026-12-07",
        "2026-12-08",
        "2026-02-30",
        "2026-1-01",
        "20261201",
        "2026-12-01T00:00:00",
        None,
        20261201,
    ],
    "expires": [
        "2027-01-15",
        "2027-03-01",
        "2027-03-02",
        "2026-12-01",
        "2026-11-30",
        "2027-02-29",
        "next week",
        None,
    ],
    "ticket": [
        "https://github.com/tbcoin/x/issues/1",
        "http://example.com/1",
        "ftp://x",
        "",
        None,
        "https://exa mple.com",
    ],
    "extra": ["anything"],
    "approved_by": ["@alice"],
}

EXAMPLES: list[Any] = [
    {},
    [],
    "waivers",
    None,
    {"ok": _valid()},
    {"ok": _valid(), "Bad Name": _valid()},
    {"-bad": 5},
    {"x": []},
    {"x": None},
    {"x": {}},
    {"x": {**_valid(), "name": "priv*"}},
    {"x": {k: v for k, v in _valid().items() if k != "urn"}},
    {"x": {**_valid(), "urn": None, "name": "priv*"}},
    {"x": {**_valid(), "ticket": None}},
    {"x": {**_valid(), "expires": "2026-12-01"}},
    {"x": {**_valid(), "granted": "2027-01-01", "expires": "2027-02-01"}},
    {"Bad Name": {**_valid(), "expires": "2026-12-01"}},
]


@pytest.mark.parametrize("data", EXAMPLES, ids=lambda d: json.dumps(d)[:60])
def test_both_readers_agree_on_the_examples(data: Any) -> None:
    assert _config_paths(data) == _pack_paths(data)


def test_a_valid_file_reads_the_same_on_both_sides() -> None:
    data = {"debug": _valid(), "api": {**_valid(), "urn": None, "name": "api-*"}}
    ours, problems = config.validate_waivers(
        data, stack=STACK, project=PROJECT, policies=WAIVABLE, clock=CLOCK
    )
    theirs, their_problems = pack.validate(
        data, stack=STACK, project=PROJECT, policies=WAIVABLE, clock=CLOCK
    )
    assert problems == [] and their_problems == []
    for w in theirs:
        mine = ours[w.name]
        assert (mine.policy, mine.urn, mine.name, mine.reason, mine.approved_by, mine.ticket) == (
            w.policy, w.urn, w.pattern, w.reason, w.approved_by, w.ticket,
        )  # fmt: skip
        assert (mine.first_day(), mine.end()) == (w.granted, w.expires)
        for urn in (URN, URN.replace("privileged", "api-7"), "urn:x::api-1"):
            assert mine.selects(urn) == w.selects(urn)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(VALUES)), st.data()),
        max_size=4,
    ),
    st.sampled_from(["ok", "a-b", "Bad", "x" * 64, "-x", "a.b"]),
    st.sets(st.sampled_from(sorted(_valid())), max_size=2),
)
def test_both_readers_agree_on_mutations(
    changes: list[tuple[str, st.DataObject]], name: str, dropped: set[str]
) -> None:
    entry = {k: v for k, v in _valid().items() if k not in dropped}
    for key, data in changes:
        entry[key] = data.draw(st.sampled_from(VALUES[key]))
    document = {name: entry, "other": _valid()}
    assert _config_paths(document) == _pack_paths(document), document


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "a": 2}', "{", '{"a": NaN}', "[1, 2", '{"a": 1e999}', "\ufeff{}", "{}"],
)
def test_both_readers_refuse_the_same_documents(text: str) -> None:
    try:
        parse_json(decode(text.encode()))
        refused = False
    except DocumentError:
        refused = True
    try:
        pack.parse(text.encode())
        theirs = False
    except ValueError:
        theirs = True
    assert refused == theirs


def test_both_readers_hold_the_same_figures() -> None:
    assert (config.MAX_DAYS, config.MIN_LITERAL, config.MIN_REASON, config.MAX_REASON) == (
        pack.MAX_DAYS, pack.MIN_LITERAL, pack.MIN_REASON, pack.MAX_REASON,
    )  # fmt: skip
    assert config.TODAY_VARIABLE == pack.TODAY_VARIABLE
    assert config.FOLDER.name == pack.FOLDER and config.NAMESPACE == pack.NAMESPACE
    assert set(pack.FIELDS) == {f.alias for f in config.Waiver.model_fields.values()}
    required = {f.alias for f in config.Waiver.model_fields.values() if f.is_required()}
    assert set(pack.REQUIRED) == required


@pytest.mark.parametrize("given_day", ["", "2026-12-01", "2026-12-07", "2027-01-01", "2027-1-1"])
def test_both_sides_judge_on_the_same_day(given_day: str) -> None:
    environ = {config.TODAY_VARIABLE: given_day}
    try:
        ours: datetime.date | None = config.today(CLOCK, environ)
    except config.ConfigError:
        ours = None
    try:
        theirs: datetime.date | None = pack.today(environ, CLOCK)
    except ValueError:
        theirs = None
    assert ours == theirs
    assert ours is None or ours >= CLOCK  # never earlier than the clock


def test_every_field_says_what_it_means() -> None:
    for name, field in config.Waiver.model_fields.items():
        assert field.description and field.description.endswith("."), name
