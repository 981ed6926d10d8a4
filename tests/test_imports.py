"""Every module imports on its own, in a process that imported nothing else of the project, so a
module that only imports once another has is found (the layering is tests/test_layering.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO


def _import_each_alone(root: Path, *packages: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.fresh_imports", str(root), *packages],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_module_imports_alone() -> None:
    run = _import_each_alone(
        REPO,
        *(str(REPO / p) for p in ("infra", "infractl", "scorecard", "secret_patterns", "policies")),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 failed" in run.stdout
    count = int(run.stdout.split(" modules imported alone")[0].split()[-1])
    assert count > 80


def test_a_cycle_hidden_by_import_order_is_found(tmp_path: Path) -> None:
    # The shape of the cycle this test exists for: config's package imports a loader that needs
    # a builder, and the builder needs a config module. `import pkg.config` works; importing the
    # builder first does not.
    files = {
        "pkg/__init__.py": "",
        "pkg/config/__init__.py": "from pkg.config.loader import load\n",
        "pkg/config/loader.py": "from pkg.github import render\n\ndef load(): return render\n",
        "pkg/config/model.py": "X = 1\n",
        "pkg/github.py": "from pkg.config.model import X\n\ndef render(): return X\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    together = subprocess.run(
        [sys.executable, "-c", "import pkg.config, pkg.github"], cwd=tmp_path, capture_output=True
    )
    assert together.returncode == 0
    run = _import_each_alone(tmp_path, str(tmp_path / "pkg"))
    assert run.returncode == 1
    assert "FAILED pkg.github\n" in run.stdout
    assert "partially initialized module 'pkg.github'" in run.stdout
    assert "FAILED pkg.config\n" not in run.stdout


PROVIDER_SDKS = ("pulumi_github", "pulumi_kubernetes", "pulumi_docker")
EVENTS = REPO / "vendor/pulumi-engine-outputs"


def _sdks_imported_by(*args: str | Path, cwd: Path = REPO) -> list[str]:
    """Run `infractl ARGS` in a fresh interpreter; the provider SDK packages it imported."""
    script = (
        "import json, sys\n"
        "from infractl.cli import main\n"
        "try:\n"
        f"    main({[str(a) for a in args]!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"sdks = sorted(m for m in sys.modules if m in {PROVIDER_SDKS!r})\n"
        "print(json.dumps(sdks), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return list(eval(run.stderr.strip().splitlines()[-1]))


def test_commands_that_do_not_run_the_program_import_no_provider_sdk(
    synthesized: Callable[[str], Path],
) -> None:
    events = (
        EVENTS / "pulumi-lifecycle-TestSimpleAnalyzeResourceMultipleViolations--eventstream.json"
    )
    refresh = EVENTS / "pulumi-lifecycle-TestRefreshBasics-all-0-0-preview--eventstream.json"
    assert _sdks_imported_by("--help") == []
    assert _sdks_imported_by("preview-report", "--event-log", events, "--stack", "dev") == []
    assert _sdks_imported_by("drift", "--stack", "prod", "--input", refresh) == []
    assert _sdks_imported_by("check", "--stack", "prod", "--from", synthesized("prod")) == []


def test_running_the_program_imports_the_provider_sdks(tmp_path: Path) -> None:
    """The probe above can see an SDK import: a synth makes them all."""
    imported = _sdks_imported_by("synth", "--stack", "prod", "--out", tmp_path / "out")
    assert imported == sorted(PROVIDER_SDKS)
