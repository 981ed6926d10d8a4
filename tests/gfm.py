"""Render Markdown as GitHub does (cmark-gfm through cmarkgfm, raw HTML allowed as before
GitHub's sanitizer) and check that hostile input added no markup of its own."""

from __future__ import annotations

import re

import cmarkgfm
from cmarkgfm.cmark import Options

# What the reports themselves write.
REPORT_TAGS = {
    "h2", "h3", "p", "em", "strong", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
    "code", "details", "summary", "ul", "li",
}  # fmt: skip


def render(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"</?([A-Za-z][A-Za-z0-9-]*)", html)}


def mentions(html: str) -> list[str]:
    """`@name` in text, where GitHub would notify; code spans never mention."""
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return re.findall(r"(?<![\w`])@[A-Za-z0-9][\w/-]*", outside_code)


def assert_inert(markdown: str) -> str:
    html = render(markdown)
    assert tags(html) <= REPORT_TAGS, tags(html) - REPORT_TAGS
    assert html.count("<details") == markdown.count("<details>")
    assert not mentions(html), mentions(html)
    return html
