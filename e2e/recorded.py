"""The recorded fixtures under tests/ are written by `--record` alone (`python -m e2e.run --record`,
`pytest --record`, `python -m tests.scorecard_real --record`, `python -m
tests.engine_outputs.construct --record`). Every other run (make e2e, make bench, make test)
checks that it left tests/ as it found it."""

from __future__ import annotations

from pathlib import Path

from e2e.tools import ROOT

TESTS = ROOT / "tests"
# Python's own caches are not the repository's.
IGNORED = {"__pycache__", ".pytest_cache", ".hypothesis"}

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path | None = None) -> Snapshot:
    """Every file under `folder` (tests/) by its relative path: size and modification time."""
    folder = folder or TESTS
    found: Snapshot = {}
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if IGNORED.intersection(parts) or not path.is_file():
            continue
        stat = path.stat()
        found["/".join(parts)] = (stat.st_size, stat.st_mtime_ns)
    return found


def changes(before: Snapshot, folder: Path | None = None) -> list[str]:
    """What was added, changed or removed under `folder` (tests/) since `before`."""
    after = snapshot(folder)
    added = [f"added {name}" for name in sorted(after.keys() - before.keys())]
    removed = [f"removed {name}" for name in sorted(before.keys() - after.keys())]
    changed = [
        f"changed {name}"
        for name in sorted(before.keys() & after.keys())
        if before[name] != after[name]
    ]
    return added + changed + removed
