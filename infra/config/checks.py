"""Required status checks: the name a check reports under, the app that must report it, and who
runs it (a managed workflow, or the repository's own CI).

A check is bound to one app (GitHub's ruleset `integration_id`): no other app, and no user with a
token, can satisfy it by posting a status of the same name. A managed check is reported by a job
of a managed workflow, so by GitHub Actions, and `make plan` proves some job reports it. An
external check is reported by the repository's own CI: the platform cannot see that job, so the
declaration says so explicitly, and says which of the floor's controls (dependency review, code
scanning) it stands for, if any.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from infra.config.base import Integer, Model, Text, unique
from infra.config.plans import CODE_SCANNING, Feature
from infra.config.plans import DEPENDENCY_REVIEW as DEPENDENCY_REVIEW_FEATURE

# The GitHub Actions app's integration id: what GitHub's ruleset and branch-protection APIs report
# as the app of a check a workflow job reports (e.g. apache/infrastructure-asfyaml#64).
GITHUB_ACTIONS = 15368

DEPENDENCY_REVIEW_CHECK = "Dependency Review"  # the managed dependency-review job's check
DEFAULT_CHECKS = ["Tests", "Code Quality", DEPENDENCY_REVIEW_CHECK]

Control = Literal["dependencyReview", "codeScanning"]
# What each control needs of the plan, as the managed workflow that provides it would.
CONTROL_FEATURES: dict[str, Feature] = {
    "dependencyReview": DEPENDENCY_REVIEW_FEATURE,
    "codeScanning": CODE_SCANNING,
}


class RequiredCheck(Model):
    """One required status check; a plain string is a managed check of that name."""

    context: Text = Field(
        min_length=1,
        max_length=255,
        description="The check's name as its job reports it (a workflow job's `name`, or the "
        "context another app posts).",
    )
    external: bool = Field(
        False,
        description="Reported by the repository's own CI, not by a managed workflow: nothing "
        "here can prove a job reports it, so it is declared.",
    )
    integration_id: Integer = Field(
        GITHUB_ACTIONS,
        ge=1,
        description="The app that must report the check, by integration id (15368 is GitHub "
        "Actions); no other app can satisfy it.",
    )
    covers: Annotated[list[Control], unique("control")] = Field(
        default_factory=list,
        description="The floor's controls this external check stands for: dependencyReview, "
        "codeScanning (a managed workflow provides them otherwise).",
    )

    @model_validator(mode="before")
    @classmethod
    def _name_only(cls, value: Any) -> Any:
        return {"context": value} if isinstance(value, str) else value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # As the config writes it: a managed check's name, or the full form.
        name = {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "A managed check, by the name its workflow job reports.",
        }
        return {"anyOf": [name, handler(core_schema)]}

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A managed check is its name, as the config writes it (settings.json, adopt).
        return handler(self) if self.external else self.context

    @field_validator("integration_id")
    @classmethod
    def _managed_by_actions(cls, value: int, info: ValidationInfo) -> int:
        if value != GITHUB_ACTIONS and not info.data.get("external", False):
            raise ValueError(
                f"a managed check is reported by a managed workflow, so by GitHub Actions "
                f"({GITHUB_ACTIONS}); set external: true for a check another app reports"
            )
        return value

    @field_validator("covers")
    @classmethod
    def _external_only(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and not info.data.get("external", False):
            raise ValueError(
                "is for external checks: a managed check covers what its workflow does "
                "(workflows.enabled)"
            )
        return value


def default_checks() -> list[RequiredCheck]:
    return [RequiredCheck(context=name) for name in DEFAULT_CHECKS]
