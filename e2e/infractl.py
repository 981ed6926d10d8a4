"""The installed `infractl`, as a platform engineer runs it from the repository."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from e2e.tools import ROOT

# Bounds a command that hangs on an unreachable API server; none takes a minute here.
TIMEOUT = 300


def run(
    *args: str, env: Mapping[str, str] | None = None, only: bool = False
) -> subprocess.CompletedProcess[str]:
    """`infractl args…` with `env` added to the harness's environment, or, with `only`, in an
    operator's bare shell: PATH and `env`, nothing of the harness (no Pulumi or Go settings)."""
    base = {"PATH": "/usr/bin:/bin"} if only else dict(os.environ)
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "infractl"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=base | dict(env or {}),
        timeout=TIMEOUT,
    )
