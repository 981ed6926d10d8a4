"""Entry point the Pulumi language host runs (`main: infra/` in Pulumi.yaml)."""

import sys
from pathlib import Path

# The language host puts this directory first on sys.path, where `infra/kubernetes` or
# `infra/github` would shadow top-level packages of the same name. Import from the project root.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
sys.path.insert(0, str(_here.parent))

from infra.program import main  # noqa: E402

main()
