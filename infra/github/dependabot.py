"""`.github/dependabot.yml` from the typed model (schema: dependabot-2.0)."""

from __future__ import annotations

from typing import Any

from infra.config.dependabot import DependabotSettings, ecosystem_label
from infra.github.yaml_text import to_yaml


def dependabot_config(settings: DependabotSettings) -> dict[str, Any]:
    updates = []
    for eco in settings.ecosystems:
        schedule: dict[str, Any] = {"interval": settings.interval}
        if settings.interval == "weekly":
            schedule["day"] = settings.day
        schedule |= {"time": settings.time, "timezone": settings.timezone}
        # `directory` takes one folder and no glob; `directories` a list, globs allowed.
        one = eco.directories[0]
        folders = (
            {"directory": one}
            if len(eco.directories) == 1 and "*" not in one
            else {"directories": list(eco.directories)}
        )
        update: dict[str, Any] = {
            "package-ecosystem": eco.ecosystem,
            **folders,
            "schedule": schedule,
            "open-pull-requests-limit": settings.open_pull_requests_limit,
            # Reviewers come from CODEOWNERS; dependabot.yml's `reviewers` key was retired.
            "labels": ["dependencies", ecosystem_label(eco.ecosystem)],
        }
        if settings.group_minor_and_patch:
            update["groups"] = {
                f"{eco.ecosystem}-minor-and-patch": {"update-types": ["minor", "patch"]}
            }
        updates.append(update)
    return {"version": 2, "updates": updates}


def dependabot_yaml(settings: DependabotSettings) -> str:
    header = "# Managed by tbcoin-platform (Pulumi); edit the platform config, not this file.\n"
    return header + to_yaml(dependabot_config(settings))
