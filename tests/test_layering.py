"""Imports run one way: the import-linter contracts in pyproject.toml (`[tool.importlinter]`) hold
over every import statement of the project, those inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

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


def _contracts() -> dict[str, Any]:
    return dict(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"])


def _packages() -> set[str]:
    """Every Python package of the repository (the pack's lives under policies/)."""
    return {
        init.parent.name
        for init in [*REPO.glob("*/__init__.py"), *REPO.glob("policies/*/__init__.py")]
        if init.parent.name != "tests"
    }


def test_every_package_is_under_the_contracts() -> None:
    config = _contracts()
    assert set(config["root_packages"]) == _packages()
    acyclic = next(c for c in config["contracts"] if c["type"] == "acyclic_siblings")
    assert set(acyclic["ancestors"]) == _packages()


@pytest.mark.parametrize("package", ["e2e", "bench"])
def test_every_module_of_the_harnesses_has_its_layer(package: str) -> None:
    """A module added to e2e/ or bench/ must be placed in its package's layers, or nothing
    holds its imports."""
    layers = next(
        c["layers"] for c in _contracts()["contracts"] if c.get("containers") == [package]
    )
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    modules = {p.stem for p in (REPO / package).glob("*.py") if p.stem != "__init__"}
    assert placed == modules


def test_a_harness_importing_what_it_must_run_as_a_user_breaks_the_contracts(
    tmp_path: Path,
) -> None:
    """The real contracts on a copy of the packages where e2e imports infractl (it runs it as a
    user does) and a bench module low in its layers imports its entry point: each is named."""
    for package in _packages() - {"tbcoin_policies"}:
        shutil.copytree(REPO / package, tmp_path / package, ignore=_CACHES)
    shutil.copytree(REPO / "policies", tmp_path / "policies", ignore=_CACHES)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "e2e" / "deploy.py").open("a") as f:
        f.write("\n\ndef _shortcut():\n    from infractl.cli import main\n    return main\n")
    with (tmp_path / "bench" / "stacks.py").open("a") as f:
        f.write("\n\ndef _upward():\n    from bench import run\n    return run\n")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        # Wide enough that no contract's name is wrapped.
        env={
            **os.environ,
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{tmp_path / 'policies'}",
            "COLUMNS": "400",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    broken = {line.removesuffix(" BROKEN") for line in done.stdout.splitlines()}
    names = {c["name"] for c in _contracts()["contracts"]}
    # The forbidden import, bench's layers, and the cycle the upward import makes.
    assert broken & names == {
        next(n for n in names if n.startswith("e2e runs infractl")),
        next(n for n in names if n.startswith("bench:")),
        next(n for n in names if n.startswith("No import cycle")),
    }, done.stdout
    assert "e2e.deploy -> infractl.cli" in done.stdout
    assert "bench.stacks -> bench.run" in done.stdout


_CACHES = shutil.ignore_patterns("__pycache__")
