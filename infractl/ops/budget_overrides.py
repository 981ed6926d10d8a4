"""Error-budget overrides a stack carries, read from the engine's output for the PR preview: an
override lets releases through while a service's error budget is below its floor, so a
reviewer must see it in every preview of the stack, not only in the one that adds it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.manifests.labels import BUDGET_OVERRIDE
from infractl.markdown import code, text

ANALYSIS_TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"


def overrides(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """(template, "until <date>: <reason>") of every AnalysisTemplate, among `resources` as
    (type, inputs), that carries an override."""
    found = []
    for kind, inputs in resources:
        if kind != ANALYSIS_TEMPLATE:
            continue
        meta = inputs.get("metadata") or {}
        note = (meta.get("annotations") or {}).get(BUDGET_OVERRIDE)
        if isinstance(note, str) and note:
            found.append((str(meta.get("name", "")), note))
    return sorted(found)


def override_lines(stack: str, found: list[tuple[str, str]]) -> list[str]:
    """The preview's lines for them (none when there are none)."""
    if not found:
        return []
    lines = [
        f"> ⚠️ **Error-budget gate overridden** in {code(stack, table=False)}: these releases go "
        "out even with the budget spent (docs/runbooks/releases.md, Held by the error budget)."
    ]
    lines += [f"> - {code(template, table=False)} {text(note)}" for template, note in found]
    return [*lines, ""]
