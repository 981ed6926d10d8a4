"""Labels area: one `IssueLabel` per declared label.

`IssueLabels` (plural) is authoritative and would delete every label it does not list, so each
label is its own resource: labels config does not name are left alone, and a label dropped from
config stays on GitHub (`retainOnDelete`: deleting a label strips it from every issue). On an
adopted repository a label that already exists is imported instead of failing on create.
"""

from __future__ import annotations

import pulumi_github as github

from infra.github.import_ids import import_id
from infra.github.settings.declaration import Declaration, RepositoryContext


def labels(ctx: RepositoryContext) -> list[Declaration]:
    # GitHub label names are unique regardless of case.
    existing = {name.lower(): name for name in ctx.existing_labels}
    declared = []
    for label in ctx.settings.labels:
        found = existing.get(label.name.lower())
        declared.append(
            Declaration(
                github.IssueLabel,
                f"{ctx.name}-label-{label.name}",
                {
                    "repository": ctx.name,
                    "name": label.name,
                    "color": label.color,
                    "description": label.description,
                },
                import_id=import_id(github.IssueLabel, repository=ctx.name, name=found)
                if found is not None
                else None,
                retain_on_delete=True,
            )
        )
    return declared
