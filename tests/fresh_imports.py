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


def _import_alone(name: str) -> str | None:
    """Fork, import `name` in the child; the child's traceback, or None if it imported."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            code, message = 0, b""
        except BaseException:
            code, message = 1, traceback.format_exc().encode()
        os.write(write, message)
        os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return None if status == 0 else b"".join(chunks).decode(errors="replace")


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
    failed = 0
    for name in modules:
        error = _import_alone(name)
        if error is not None:
            failed += 1
            print(f"FAILED {name}\n{error}")
    print(f"{len(modules)} modules imported alone, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]))
