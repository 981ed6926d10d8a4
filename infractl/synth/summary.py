"""Short human summary of a synth, for a terminal and for a PR."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from infractl.synth.capture import Captured


def synth_summary(
    stack: str,
    resources: list[Captured],
    out: Path,
    files: list[str],
    scorecard: Sequence[str] = (),
) -> str:
    by_type = Counter(r.type for r in resources)
    width = max((len(str(n)) for n in by_type.values()), default=1)
    lines = [
        f"Stack '{stack}': {len(resources)} resources (offline synth under Pulumi mocks; "
        "nothing was applied)",
    ]
    lines += [f"  {n:>{width}}  {t}" for t, n in sorted(by_type.items())]
    folders = Counter(f.split("/", 1)[0] for f in files if "/" in f)
    lines.append(f"Written to {out}/")
    lines.append("  resources.json  every resource with its inputs and options")
    lines += [f"  {name}/  {count} files" for name, count in sorted(folders.items())]
    lines += scorecard
    return "\n".join(lines)
