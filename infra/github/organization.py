"""What a stack declares for the whole organisation, as plain declarations: the schema of the
custom properties it manages. A property is organisation-wide, so exactly one stack declares
it (the pack's github-single-stack-ownership, from `infractl policies sync-config`)."""

from __future__ import annotations

import pulumi_github as github

from infra.config.github import GitHubConfig
from infra.github.settings.declaration import Declaration
from infra.github.settings.properties import property_resource_name


def organization_declarations(config: GitHubConfig) -> list[Declaration]:
    return [
        Declaration(
            github.OrganizationCustomProperties,
            property_resource_name(name),
            {
                "property_name": name,
                "value_type": prop.value_type,
                "required": prop.required,
                "description": prop.description,
                "values_editable_by": prop.values_editable_by,
                **({"default_value": prop.default_value} if prop.default_value is not None else {}),
                **({"allowed_values": prop.allowed_values} if prop.allowed_values else {}),
            },
            # Dropped from the config, a property stays on GitHub with every repository's value:
            # other stacks' groups may still select on it. Deleting it is a deliberate act there.
            retain_on_delete=True,
        )
        for name, prop in sorted(config.custom_properties.items())
    ]
