"""Imports run one way: the import-linter contracts in pyproject.toml (`[tool.importlinter]`) hold
over every import statement of the project, those inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from tests.conftest import REPO


def _lint(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    return code, capsys.readouterr().out


def test_the_project_keeps_its_import_contracts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    code, out = _lint(REPO / "pyproject.toml", capsys)
    assert code == 0, out
    assert "0 broken" in out


def test_an_import_inside_a_function_breaks_the_layers_and_the_cycle_contracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Both imports only run when their function is called, as check.py's import of charts.py did:
    # importing each module alone cannot see them.
    files = {
        "pkg/__init__.py": "",
        "pkg/config.py": "def load():\n    from pkg.program import main\n    return main\n",
        "pkg/program.py": "from pkg.config import load\n\ndef main():\n    return load\n",
        "pkg/a.py": "def f():\n    from pkg import b\n    return b\n",
        "pkg/b.py": "def g():\n    from pkg import a\n    return a\n",
        "contracts.toml": textwrap.dedent(
            """
            [tool.importlinter]
            root_packages = ["pkg"]

            [[tool.importlinter.contracts]]
            name = "layers"
            type = "layers"
            layers = ["pkg.program", "pkg.config"]

            [[tool.importlinter.contracts]]
            name = "cycles"
            type = "acyclic_siblings"
            ancestors = ["pkg"]
            """
        ),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out = _lint(tmp_path / "contracts.toml", capsys)
    assert code == 1
    assert "layers BROKEN" in out and "cycles BROKEN" in out
    assert "pkg.config -> pkg.program" in out
