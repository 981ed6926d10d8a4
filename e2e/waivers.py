"""Waivers under the real engine: the pack reads `waivers/<stack>.json` beside itself, so a run
that needs waivers of its own runs a copy of the pack (the same files) and writes them there;
the repository's own policies/waivers/ is never touched."""

from __future__ import annotations

import shutil
from pathlib import Path

from e2e.tools import ROOT

# What the pack imports from beside its folder (policies/__main__.py puts the parent on the path).
BESIDE = ("scorecard", "secret_patterns")


def copy_pack(folder: Path) -> Path:
    """A copy of policies/ as `folder/policies` (without the repository's waivers), its
    neighbours linked; returns the copy's folder."""
    pack = folder / "policies"
    shutil.copytree(
        ROOT / "policies",
        pack,
        ignore=shutil.ignore_patterns("__pycache__", "waivers", "venv"),
        symlinks=True,
    )
    for name in BESIDE:
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    return pack
