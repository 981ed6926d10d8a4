"""Custom-property area: the values of the organisation's custom properties this repository
sets (the schema itself is organisation-wide: infra/github/organization.py)."""

from __future__ import annotations

import pulumi_github as github

from infra.github.settings.declaration import Declaration, RepositoryContext


def property_resource_name(name: str) -> str:
    """The logical name of the organisation's property `name` (GovernedRepository resolves a
    declaration's dependency on it)."""
    return f"custom-property-{name}"


def properties(ctx: RepositoryContext) -> list[Declaration]:
    return [
        Declaration(
            github.RepositoryCustomProperty,
            f"{ctx.name}-property-{name}",
            {
                "repository": ctx.name,
                "property_name": name,
                "property_type": kind,
                "property_values": values,
            },
            # The schema is declared by the same stack: a value needs its property first.
            depends_on=(property_resource_name(name),),
        )
        for name, (kind, values) in sorted(ctx.properties.items())
    ]
