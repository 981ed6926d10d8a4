"""LICENSE: the unchanged text of the SPDX licence the config names, so GitHub detects it."""

from __future__ import annotations

from pathlib import Path

TEXTS = Path(__file__).resolve().parents[2] / "vendor" / "license-texts"


def license_text(spdx: str) -> str:
    return (TEXTS / f"{spdx}.txt").read_text(encoding="utf-8")
