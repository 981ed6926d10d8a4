"""The docs cannot drift: every example in README.md and docs/ is checked (tests/docs_examples.py,
docs/internals/docs-tests.md), the README stays a short map, and every link leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sybil.example import SybilFailure

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


# --- the checks can fail ------------------------------------------------------------------


def _first_stack_snippet(path: Path) -> str:
    """The first stack-config yaml block of a real page, as written there."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", path.read_text(), re.M | re.S)
    return next(b for b in blocks if b.startswith("tbcoin-platform:"))


def _check(tmp_path: Path, text: str) -> str | None:
    """A one-page doc checked as the real ones are: None if it holds, else why not."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    page = tmp_path / "page.md"
    page.write_text(text)
    try:
        docs_examples.check_page(page, tmp_path / "project")
    except (SybilFailure, ValueError) as failed:
        return str(failed)
    return None


GOVERN = REPO / "docs/tutorials/govern-a-repository.md"


def test_a_misspelt_key_in_a_docs_snippet_fails(tmp_path: Path) -> None:
    snippet = _first_stack_snippet(GOVERN)
    marker = "<!-- docs-test: stack=prod -->\n"
    assert _check(tmp_path / "as-written", f"{marker}```yaml\n{snippet}```\n") is None
    misspelt = snippet.replace("description:", "descripton:")
    assert misspelt != snippet
    failed = _check(tmp_path / "misspelt", f"{marker}```yaml\n{misspelt}```\n")
    assert failed and "descripton: unknown key; did you mean 'description'?" in failed


@pytest.mark.parametrize(
    ("page", "why"),
    [
        ("```console\n$ echo hello\nhallo\n```\n", "printed otherwise than shown"),
        ("```console\n$ echo hello\n```\n", "printed otherwise than shown"),
        ("```sh\nfalse\n```\n", "exited 1, not 0"),
        ("<!-- docs-test: exit=2 -->\n```sh\ntrue\n```\n", "exited 0, not 2"),
        ("```text\nsome output nobody checks\n```\n", "a text block is either"),
        ("```bash\necho hello\n```\n", "language 'bash'"),
        ("```\nno language\n```\n", "language ''"),
        ("<!-- docs-test: not-run because -->\n```sh\nfalse\n```\n", "reviewed reasons"),
        (
            "<!-- docs-test: stack=prod refused -->\n```yaml\n"
            "tbcoin-platform:kubernetes: {replicas: 2}\n```\n",
            "marked refused, but stack 'prod' accepts it",
        ),
        (
            "<!-- docs-test: stack=prod refused -->\n```yaml\n"
            "tbcoin-platform:kubernetes: {replicas: 0}\n```\n\n```text\n"
            "Pulumi.prod.yaml: tbcoin-platform:kubernetes.replicas: must be >= 2\n```\n",
            "the snippet is refused with",
        ),
    ],
)
def test_an_example_that_is_not_true_fails(tmp_path: Path, page: str, why: str) -> None:
    failed = _check(tmp_path, page)
    assert failed is not None and why in failed


def test_output_may_be_elided_with_an_ellipsis(tmp_path: Path) -> None:
    page = "```console\n$ printf 'a\\nb\\nc\\npid 42 up\\n'\na\n...\npid ... up\n```\n"
    assert _check(tmp_path, page) is None
