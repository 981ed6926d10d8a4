"""One Unicode-aware definition of "no control characters" (issue 24).

The docs (docs/reference/repository-governance.md) say config strings that reach files and API
fields carry no line break or other control character. ASCII controls were refused;
U+2028/U+2029 (line and paragraph separators), C1 controls such as U+0085 (NEL) and format
characters such as U+202E (right-to-left override)
were accepted and reached generated files.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from infra.config.base import CONTROL_CATEGORIES, Text, control_character
from tests.conftest import config_problems, infractl, load_stack, write_stack

TEXT = TypeAdapter(Text)


@given(
    st.text(max_size=5),
    st.characters(categories=sorted(CONTROL_CATEGORIES)),  # type: ignore[arg-type]
    st.text(max_size=5),
)
def test_every_control_category_is_refused(before: str, control: str, after: str) -> None:
    with pytest.raises(ValidationError):
        TEXT.validate_python(before + control + after)


@given(st.text(st.characters(exclude_categories=sorted(CONTROL_CATEGORIES))))  # type: ignore[arg-type]
def test_other_text_is_one_line_and_accepted(value: str) -> None:
    assert TEXT.validate_python(value) == value
    assert not any(unicodedata.category(c) in CONTROL_CATEGORIES for c in value)


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x9b", "\u202e", "\u200b", "\n"])
def test_a_label_description_with_one_is_refused_naming_the_key(char: str, tmp_path: Path) -> None:
    assert control_character(f"a{char}b") == char

    def mutate(config: dict[str, Any]) -> None:
        config["tbcoin-platform:github"]["defaults"]["labels"][0]["description"] = f"Deps{char}x"

    report = config_problems(mutate, tmp_path)
    assert report.startswith(
        "Pulumi.prod.yaml: tbcoin-platform:github.defaults.labels[0].description: "
    ), report


def test_the_cli_refuses_a_line_separator_with_exit_2(tmp_path: Path) -> None:
    document = load_stack("prod")
    document["config"]["tbcoin-platform:github"]["defaults"]["labels"][0]["description"] = (
        "Deps\u2028* @attacker"
    )
    path = write_stack(tmp_path / "Pulumi.prod.yaml", document)
    run = infractl("scorecard", "--stack", "prod", "--config-file", path)
    assert run.code == 2 and run.stdout == ""
    assert run.stderr == (
        f"{path}: tbcoin-platform:github.defaults.labels[0].description: must be one line of "
        "text without control characters (found U+2028) (got 'Deps\\u2028* @attacker')\n"
    )
