"""The project's policy pack read in this process for its metadata (what each policy is, whether
a waiver may excuse it); checks themselves always run the pack in a process of its own."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def _pack(pack_dir: Path) -> ModuleType:
    sys.path.insert(0, str(pack_dir))
    try:
        import tbcoin_policies
    finally:
        sys.path.remove(str(pack_dir))
    return tbcoin_policies


def pack_catalogue(pack_dir: Path) -> dict[str, dict[str, Any]]:
    return dict(_pack(pack_dir).CATALOGUE)


def waivable(pack_dir: Path) -> dict[str, bool]:
    """Every policy of the pack -> whether a waiver may excuse it."""
    return dict(_pack(pack_dir).WAIVABLE)
