"""Text from engine output, policy messages or config, made inert for GitHub Markdown.

Everything the tools write into a PR comment or an issue that they did not write themselves goes
through `text` (prose, table cells) or `code` (a code span). Both redact credentials first
(secret_patterns; escaping would hide a token's shape from it), and neither lets the input
mention anyone, open or close HTML (`</details>`, `<img>`), show an image or link, end a code span
or a table cell, or start a new line.
"""

from __future__ import annotations

import re

from secret_patterns import redact

# A zero-width space after `@` keeps the text readable but is no mention to GitHub.
_ZWSP = "\u200b"
# The characters that open or close inline syntax: emphasis, strikethrough, code, table cells and
# link/image brackets (without `[` no `![x](y)` or `[x](y)` can form). Block syntax (`#`, `-`,
# `1.`) only counts at the start of a line, where this text is never put.
_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
# GitHub links bare `scheme://…` and `www.…`; an escaped `:` or `.` stops that.
_AUTOLINK = re.compile(r"(?i)(:(?=/)|(?<=\bwww)\.)")
_BACKTICKS = re.compile(r"`+")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
# Characters that act instead of showing: C1 controls, and the bidirectional marks, embeddings,
# overrides and isolates that reorder what is read (Trojan Source). infractl.terminal too.
INVISIBLE = "\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0e-\x1f\x7f{INVISIBLE}]")


# Room past the cut for the end of a credential that starts before it (redacted whole, even if
# only its start is shown); beyond that nothing is shown, so nothing is scanned: a 5 MB value
# costs a 4 KiB scan.
_REDACT_PAST_CUT = 4096


def _one_line(value: object, limit: int) -> str:
    raw = str(value)
    # Controls go before redaction: one inside a token would hide it from the detector.
    flat = redact(_CONTROL.sub("", _LINE_BREAKS.sub(" ", raw[: limit + _REDACT_PAST_CUT])))
    cut = len(flat) > limit or len(raw) > limit + _REDACT_PAST_CUT
    return flat[: limit - 1] + "…" if cut else flat


def text(value: object, limit: int = 500) -> str:
    """Plain prose on one line: no markup, HTML, mention or image survives."""
    flat = _one_line(value, limit)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _AUTOLINK.sub(r"\\\1", _PUNCTUATION.sub(r"\\\1", flat))
    return flat.replace("@", "@" + _ZWSP)


def code(value: object, limit: int = 200, table: bool = True) -> str:
    """A code span the content cannot close: its fence is longer than any backtick run inside.

    In a table cell (`table=True`) a `|` is escaped, as GitHub splits cells before it parses code.
    """
    flat = _one_line(value, limit)
    if table:
        flat = flat.replace("|", "\\|")
    if not flat.strip():
        flat = flat + "\u2423" if flat else "\u2205"  # visible blank / empty marker
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    # A space on both sides lets the content start or end with a backtick; CommonMark strips it.
    pad = " " if flat.startswith("`") or flat.endswith("`") or longest else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
