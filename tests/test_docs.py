"""The docs cannot drift: every example in README.md and docs/ is checked (tests/docs_examples.py,
docs/internals/docs-tests.md), the README stays a short map, and every link leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import docs_examples
from tests.conftest import REPO

README_MAX_LINES = 300


@pytest.mark.parametrize("path", docs_examples.documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_holds(path: Path, tmp_path: Path) -> None:
    docs_examples.check_page(path, tmp_path / "project")


def test_the_readme_is_a_short_map() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; it is a map of at most {README_MAX_LINES}: "
        "move the detail to a page under docs/ and link it"
    )


def test_the_cli_reference_is_generated_from_the_parser() -> None:
    from infractl.cli_reference import reference

    assert (REPO / "docs/reference/cli.md").read_text() == reference(), (
        "docs/reference/cli.md is stale: run "
        "`python -m infractl.cli_reference > docs/reference/cli.md`"
    )


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.M | re.S)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')


def anchors(text: str) -> set[str]:
    """The fragment ids GitHub gives a page's headings (lower case, punctuation but `-` and `_`
    dropped, spaces to `-`), and explicit `<a id>` anchors."""
    text = FENCE.sub("", text)
    slugs = {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in HEADING.findall(text)
    }
    return slugs | set(ANCHOR.findall(text))


def anchors_of(path: Path) -> set[str]:
    return anchors(path.read_text())


def broken_links(path: Path) -> list[str]:
    text = path.read_text()
    broken = []
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not checked offline
        file, _, fragment = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif (
            fragment and resolved.suffix == ".md" and fragment not in anchors(resolved.read_text())
        ):
            broken.append(f"{target}: no heading #{fragment}")
    return broken


@pytest.mark.parametrize(
    "path",
    [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_every_link_leads_somewhere(path: Path) -> None:
    assert broken_links(path) == []
