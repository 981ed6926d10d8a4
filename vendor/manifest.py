"""Keep each vendored folder's `SOURCES.md` file table in step with the folder.

Every folder directly under `vendor/` has a `SOURCES.md`: provenance prose written by whoever
vendored the files, then a `## Files` table (path, bytes, sha256) that this script writes. The
test suite checks the table both ways (no file without a row, no row without a file) and the
hashes, so a refreshed file cannot slip in unrecorded.

    python vendor/manifest.py          # rewrite every table after a refresh
    python vendor/manifest.py --check  # exit 1 and name what differs
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

VENDOR = Path(__file__).resolve().parent
MARKER = "## Files"
HEADER = (
    f"{MARKER}\n\n"
    "Written by `python vendor/manifest.py`; checked by `tests/test_vendor.py`.\n\n"
    "| file | bytes | sha256 |\n|---|---|---|\n"
)


def folders() -> list[Path]:
    return sorted(p for p in VENDOR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def vendored_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "SOURCES.md" and "__pycache__" not in p.parts
    )


def table(folder: Path) -> str:
    rows = []
    for path in vendored_files(folder):
        data = path.read_bytes()
        name, digest = path.relative_to(folder).as_posix(), hashlib.sha256(data).hexdigest()
        rows.append(f"| `{name}` | {len(data)} | `{digest}` |")
    return HEADER + "\n".join(rows) + "\n"


def split(text: str) -> tuple[str, str]:
    """Provenance prose, and the generated table (empty if none yet)."""
    head, sep, tail = text.partition("\n" + MARKER + "\n")
    return head.rstrip("\n") + "\n", (MARKER + "\n" + tail) if sep else ""


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    stale = []
    for folder in folders():
        sources = folder / "SOURCES.md"
        prose, current = (
            split(sources.read_text(encoding="utf-8")) if sources.exists() else ("", "")
        )
        wanted = table(folder)
        if current != wanted:
            stale.append(sources.relative_to(VENDOR.parent).as_posix())
            if not check:
                sources.write_text(prose + "\n" + wanted, encoding="utf-8")
    if check and stale:
        print("stale file tables: " + ", ".join(stale) + " (run: python vendor/manifest.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
