"""`python -m tests.fresh_imports ROOT PACKAGE...`: import every module of the packages, each on
its own in a new process, and print the ones that fail (exit 1 if any).

Every module starts from an interpreter that has imported no module of ROOT, so an import cycle
that only works in one import order fails here. Starting ~100 interpreters, each importing the
provider SDKs again, would cost minutes on two cores; instead this process first imports the
third-party modules the packages use (learnt from one scout process), then forks one child per
module. A child shares those third-party modules, and nothing else, with its parent.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path


def modules_of(root: Path, package_dirs: list[Path]) -> list[str]:
    """Dotted names of every module below the package folders (entry points `__main__` run,
    they are not imported). A folder that is itself on sys.path contributes its subpackages."""
    names = []
    for folder in package_dirs:
        base = folder.parent if (folder / "__init__.py").exists() else folder
        for path in sorted(folder.rglob("*.py")):
            if path.name == "__main__.py":
                continue
            parts = path.relative_to(base).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _third_party(modules: list[str], own: tuple[str, ...]) -> list[str]:
    """What importing all the modules pulls in from outside `own`, per a scout process."""
    scout = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    try: importlib.import_module(name)\n"
        "    except Exception: pass\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] not in {own!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", scout], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.splitlines()[-1]))


def _fork_import(name: str, report: Path) -> int:
    """Fork a child that imports `name` and writes its traceback (if any) to `report`."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            importlib.import_module(name)
        except BaseException:
            code = 1
            report.write_text(traceback.format_exc())
        os._exit(code)
    return pid


def _import_each_alone(modules: list[str], jobs: int) -> dict[str, str]:
    """Import every module in a child of its own, `jobs` children at a time; failures by name."""
    failures: dict[str, str] = {}
    running: dict[int, tuple[str, Path]] = {}
    with tempfile.TemporaryDirectory() as tmp:

        def reap() -> None:
            pid, status = os.wait()
            name, report = running.pop(pid)
            if status != 0:
                failures[name] = report.read_text() if report.exists() else f"status {status}"

        for i, name in enumerate(modules):
            while len(running) >= jobs:
                reap()
            report = Path(tmp) / f"{i}.txt"
            running[_fork_import(name, report)] = (name, report)
        while running:
            reap()
    return failures


def main(root: Path, package_dirs: list[Path]) -> int:
    paths = {str(root), *(str(d) for d in package_dirs if not (d / "__init__.py").exists())}
    sys.path[:0] = sorted(paths)
    os.environ["PYTHONPATH"] = os.pathsep.join([*sorted(paths), os.environ.get("PYTHONPATH", "")])
    modules = modules_of(root, package_dirs)
    own = tuple(sorted({m.split(".")[0] for m in modules}))
    for name in _third_party(modules, own):
        try:
            importlib.import_module(name)
        except Exception:
            continue
    assert not [m for m in sys.modules if m.split(".")[0] in own], "project module preloaded"
    failures = _import_each_alone(modules, jobs=os.cpu_count() or 2)
    for name, error in sorted(failures.items()):
        print(f"FAILED {name}\n{error}")
    print(f"{len(modules)} modules imported alone, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]))
