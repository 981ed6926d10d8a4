"""GitHub as it really behaves (terraform-provider-github v6.13.0, which pulumi-github 6.15.0
bridges): what the first and the second `pulumi up` would do to a real repository."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from infra.github.settings.labels import labels
from tests.conftest import resources
from tests.test_github_settings import context


def _of_type(out: Path, kind: str) -> list[dict[str, Any]]:
    return [r for r in resources(out) if r["type"] == f"github:index/{kind}"]


def test_labels_are_added_one_by_one_and_never_deleted(
    synthesized: Callable[[str], Path],
) -> None:
    out = synthesized("prod")
    # The authoritative IssueLabels would delete `bug`, `enhancement`… from the adopted repository.
    assert _of_type(out, "issueLabels:IssueLabels") == []
    declared = _of_type(out, "issueLabel:IssueLabel")
    assert sorted(r["inputs"]["name"] for r in declared) == [
        "dependencies", "docker", "github-actions", "python", "security", "workflow",
    ]  # fmt: skip
    # Dropping a label from config leaves it on GitHub (and on every issue that carries it).
    assert all(r["options"]["retainOnDelete"] is True for r in declared)


def test_adopting_a_repository_imports_its_same_named_labels() -> None:
    ctx = context()
    security = next(label for label in ctx.settings.labels if label.name == "security")
    renamed = [
        label.model_copy(update={"name": "Security"}) if label is security else label
        for label in ctx.settings.labels
    ]  # GitHub label names ignore case
    adopted = replace(
        ctx,
        settings=ctx.settings.model_copy(update={"labels": renamed}),
        existing_labels=frozenset({"security", "bug"}),
    )
    by_name = {d.args["name"]: d for d in labels(adopted)}
    assert by_name["Security"].import_id == "tbcoin-engine-ml:security"
    assert by_name["python"].import_id is None  # absent from the repository: created
    assert "bug" not in by_name  # not in config: left alone
    assert all(d.import_id is None for d in labels(ctx))  # a new repository has nothing to adopt


def test_every_required_check_is_bound_to_the_github_actions_app(
    synthesized: Callable[[str], Path],
) -> None:
    for stack in ("prod", "staging"):
        (ruleset,) = _of_type(synthesized(stack), "repositoryRuleset:RepositoryRuleset")
        checks = ruleset["inputs"]["rules"]["requiredStatusChecks"]["requiredChecks"]
        assert checks
        assert {c.get("integrationId") for c in checks} == {15368}, stack


def test_production_deploys_from_the_default_branch_by_explicit_policy(
    synthesized: Callable[[str], Path],
) -> None:
    out = synthesized("prod")
    envs = {
        r["inputs"]["environment"]: r
        for r in _of_type(out, "repositoryEnvironment:RepositoryEnvironment")
    }
    production = envs["production"]
    assert production["inputs"]["deploymentBranchPolicy"] == {
        "protectedBranches": False,
        "customBranchPolicies": True,
    }
    (policy,) = _of_type(
        out, "repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
    )
    assert policy["inputs"]["branchPattern"] == "main"
    assert production["urn"] in policy["options"]["dependsOn"]


def test_licensed_features_depend_on_visibility_and_the_licence_flags() -> None:
    from infra.config.plans import ACTION_FEATURES, SECRET_SCANNING, missing_licence

    settings = context().settings
    review = ACTION_FEATURES["actions/dependency-review-action"]
    for visibility in ("private", "internal"):
        bare = settings.model_copy(
            update={
                "visibility": visibility,
                "security": settings.security.model_copy(
                    update={"code_security_licensed": False, "secret_protection_licensed": True}
                ),
            }
        )
        assert missing_licence(bare, review) is not None, visibility
        assert missing_licence(bare, SECRET_SCANNING) is None
    public = settings.model_copy(
        update={
            "visibility": "public",
            "security": settings.security.model_copy(
                update={"code_security_licensed": False, "secret_protection_licensed": False}
            ),
        }
    )
    assert all(missing_licence(public, f) is None for f in (review, SECRET_SCANNING))
    assert all(f.source.startswith("https://docs.github.com/") for f in ACTION_FEATURES.values())
