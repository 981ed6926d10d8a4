"""Hostile text in a report stays data: rendered with GitHub's own Markdown engine (cmark-gfm,
through cmarkgfm, with raw HTML allowed as GitHub's pre-sanitizer stage does), it opens no tag,
mentions nobody, ends no code span or table cell, and reads back as it was written."""

from __future__ import annotations

import html
import os
import re
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from infractl.markdown import INVISIBLE, code, text
from secret_patterns import redact
from tests.gfm import mentions, render, tags

TABLE_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "code"}
HOSTILE = [
    "@tbcoin/admins please look",
    "</details><details open><summary>x</summary>",
    "![x](https://evil.example/p.png) [click](https://evil.example)",
    "see https://evil.example, www.evil.example or mail a@evil.example",
    "a ` b `` c ``` d",
    "`",
    "cell | break | more",
    "line\nbreak\r\n## heading",
    "<img src=x onerror=alert(1)>",
    "*bold* _em_ ~~strike~~ &lt;already&gt;",
    "\\`escaped\\`",
    "",
    " ",
]


def _render_row(value: str) -> str:
    return render(f"| t | c |\n|---|---|\n| {text(value)} | {code(value)} |\n")


def _flat(value: str) -> str:
    return re.sub(r"[\r\n\u2028\u2029\x0b\x0c\x85]+", " ", value)


def _check(value: str) -> None:
    rendered = _render_row(value)
    assert tags(rendered) <= TABLE_TAGS, (value, rendered)
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
    assert len(cells) == 2, (value, rendered)
    prose, span = cells
    assert not mentions(prose), prose
    assert span.count("<code>") == 1 and span.startswith("<code>") and span.endswith("</code>")
    # Shown as given, less what acts instead of showing; a credential shape is redacted.
    flat = redact(re.sub(f"[\x00-\x08\x0e-\x1f\x7f{INVISIBLE}]", "", _flat(value)))
    if len(flat) < 190 and flat.strip():
        read_back = html.unescape(span.removeprefix("<code>").removesuffix("</code>"))
        assert read_back.strip() == flat.strip(), (value, span)
        unmentioned = html.unescape(prose).replace("\u200b", "")
        assert unmentioned.strip() == flat.replace("\u200b", "").strip(), (value, prose)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_stays_data(value: str) -> None:
    _check(value)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("`|<>@![]()*_~\\&\n")))
@example("``` `` `")
def test_any_text_stays_data(value: str) -> None:
    _check(value)


@pytest.mark.parametrize("value", HOSTILE[:6])
def test_the_checks_catch_naive_escaping(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Mutation: with the old escaping (only `|` and newlines) each hostile value is caught."""
    naive = lambda v: v.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    monkeypatch.setattr(sys.modules[__name__], "text", naive)
    monkeypatch.setattr(sys.modules[__name__], "code", lambda v: f"`{naive(v)}`")
    with pytest.raises(AssertionError):
        _check(value)


def test_policy_check_markdown_is_inert() -> None:
    from infractl.policy.report import markdown_report
    from infractl.policy.results import CheckResult, Violation
    from tests.gfm import assert_inert

    hostile = "@tbcoin/admins </details> ![x](https://evil.example/x.png) `|` end\nnext"
    result = CheckResult(
        stack="prod", resources=1, policies=1, pack="p", analyzer={},
        violations=[Violation(f"urn:pulumi:prod::p::t:m:T::{hostile}", f"p{hostile}",
                              "mandatory", "high", hostile)],
        disabled=[f"d{hostile}"],
    )  # fmt: skip
    html = assert_inert(markdown_report(result))
    assert html.count("<td>") == 5 and "<img" not in html
