"""The one reader of a synth's `resources.json` (`check --from`, `scorecard --base`,
`drift --resources`): bounded like every document infractl reads, and refused unless it is the
non-empty list of resources, one per URN, that `infractl synth` writes. An empty list or a URN
given twice would otherwise read as "nothing declared" or let one entry silently replace the
other."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from infra.config.documents import DocumentError, load_json
from infractl.errors import UsageError


def load_resources_json(path: Path) -> list[dict[str, Any]]:
    """The resources, read with bounds far above any real stack's output (prod: 200 KB, 3,000
    values); UsageError (exit 2) naming the file if it cannot be read or is not a synth's."""
    try:
        data = load_json(path, max_bytes=1 << 28, max_nodes=20_000_000)
    except DocumentError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    fix = "write it with `infractl synth --out DIR`"
    if not isinstance(data, list) or not all(
        isinstance(r, dict) and isinstance(r.get("urn"), str) and isinstance(r.get("type"), str)
        for r in data
    ):
        raise UsageError(
            f"{path}: not a synth output (a list of resources with a urn and type); " + fix
        )
    if not data:
        raise UsageError(f"{path}: not a synth output: it lists no resources; {fix}")
    repeated = [urn for urn, n in Counter(r["urn"] for r in data).items() if n > 1]
    if repeated:
        raise UsageError(
            f"{path}: not a synth output: URN {repeated[0]!r} is listed more than once "
            f"(a synth lists each resource once); {fix}"
        )
    return data
