"""Which of the loaded modules come from the project's sources and which from outside it: the
zygote may hold only the latter, and preloads what a worker loaded of them."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType


def is_project_module(module: ModuleType, project: Path) -> bool:
    """A module loaded from the project's sources (not from its virtualenv's site-packages)."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return False
    path = Path(file).resolve()
    return project in path.parents and Path(sys.prefix).resolve() not in path.parents


def project_modules(project: Path) -> list[str]:
    return sorted(n for n, m in list(sys.modules.items()) if is_project_module(m, project))


def third_party_modules(project: Path) -> list[str]:
    """In the order they were loaded, which is an order they load in."""
    return [
        name
        for name, module in list(sys.modules.items())
        if name not in ("__main__", "__mp_main__") and not is_project_module(module, project)
    ]
