"""Repositories of any shape (issue 36.1): what a repository gets managed is chosen per repository
or group, and each choice is checked against the component that reads it: required checks bound
to their app in the ruleset, dependabot.yml against the Dependabot schema, codeql.yml against the
workflow schema and actionlint, every external check explicit."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from infra.config.checks import GITHUB_ACTIONS
from infra.config.code_scanning import CodeqlLanguage
from infra.config.dependabot import SCHEMA, ecosystem_label, ecosystems
from infra.config.github import ActionPin, RepositorySettings
from infra.github.files import repository_files
from infra.github.settings.ruleset import default_branch_ruleset
from infra.github.workflows.common import check_names
from tests.conftest import config_problems, load_stack
from tests.test_github_files import actionlint, check_jsonschema

REPO_KEY = "Pulumi.prod.yaml: tbcoin-platform:github.repositories.tbcoin-engine-ml"
PINS = load_stack("prod")["config"]["tbcoin-platform:github"]["actionPins"]

# A Go service that brings its own CI: no managed workflow; every required check its own,
# declared external, the floor's controls among them declared as such.
OWN_CI: dict[str, Any] = {
    "workflows": {"enabled": []},
    "preCommit": False,
    "pages": False,
    "dependabot": {"ecosystems": [{"ecosystem": "gomod"}, {"ecosystem": "github-actions"}]},
    "branchRules": {
        "requiredChecks": [
            {"context": "build", "external": True},
            {"context": "test", "external": True},
            {"context": "dependency-review", "external": True, "covers": ["dependencyReview"]},
            {"context": "Analyze (go)", "external": True, "covers": ["codeScanning"]},
        ]
    },
}
GO_LABEL = {"name": "go", "color": "00add8", "description": "Go dependency updates"}


def _engine(**layer: Any) -> Callable[[dict[str, Any]], None]:
    """Replace keys of tbcoin-engine-ml's own layer in prod (and declare the label Go needs)."""

    def mutate(config: dict[str, Any]) -> None:
        github = config["tbcoin-platform:github"]
        github["defaults"]["labels"].append(GO_LABEL)
        github["repositories"]["tbcoin-engine-ml"].update(copy.deepcopy(layer))

    return mutate


def _settings(**layer: Any) -> RepositorySettings:
    return RepositorySettings.model_validate(layer)


def _files(settings: RepositorySettings) -> dict[str, str]:
    pins = {k: ActionPin(sha=v["sha"], version=v["version"]) for k, v in PINS.items()}
    return repository_files("tbcoin", "x", settings, pins)


# --- a repository that brings its own CI -------------------------------------------------------


def test_a_repository_with_its_own_ci_is_accepted_under_prods_floor(tmp_path: Path) -> None:
    assert config_problems(_engine(**OWN_CI), tmp_path) == ""


def test_its_checks_are_bound_to_the_app_that_reports_them() -> None:
    checks = [
        {"context": "build", "external": True},
        {"context": "ci/circleci: test", "external": True, "integrationId": 18001},
        "Tests",
    ]
    rules = default_branch_ruleset(_settings(branchRules={"requiredChecks": checks}))["rules"]
    assert rules["required_status_checks"]["required_checks"] == [
        {"context": "build", "integration_id": GITHUB_ACTIONS},
        {"context": "ci/circleci: test", "integration_id": 18001},
        {"context": "Tests", "integration_id": GITHUB_ACTIONS},
    ]


def test_it_gets_no_managed_workflow_and_no_pre_commit_file() -> None:
    files = _files(_settings(**OWN_CI))
    assert sorted(files) == [".github/CODEOWNERS", ".github/dependabot.yml"]


def test_a_managed_check_nobody_reports_is_still_refused(tmp_path: Path) -> None:
    layer = copy.deepcopy(OWN_CI)
    layer["branchRules"]["requiredChecks"].append("Tests")
    report = config_problems(_engine(**layer), tmp_path)
    assert report == (
        f"{REPO_KEY}.branchRules.requiredChecks: required check 'Tests' is reported by no job of "
        "a managed workflow, so every PR would wait forever ('Expected — waiting for status'); "
        "the managed workflows report: none. If the repository's own CI reports it, declare it "
        "{context: Tests, external: true}"
    )


def test_an_external_check_a_managed_job_reports_is_refused(tmp_path: Path) -> None:
    checks = ["Tests", "Code Quality", {"context": "Dependency Review", "external": True}]
    report = config_problems(_engine(branchRules={"requiredChecks": checks}), tmp_path)
    assert (
        f"{REPO_KEY}.branchRules.requiredChecks: external check 'Dependency Review' is " in report
    )
    assert "reported by the managed .github/workflows/dependency-check.yml: drop " in report


@pytest.mark.parametrize(
    ("check", "key", "message"),
    [
        (
            {"context": "build", "integrationId": 18001},
            "branchRules.requiredChecks[3].integrationId",
            "a managed check is reported by a managed workflow, so by GitHub Actions (15368); set "
            "external: true for a check another app reports (got 18001)",
        ),
        (
            {"context": "Tests", "covers": ["codeScanning"]},
            "branchRules.requiredChecks[3].covers",
            "is for external checks: a managed check covers what its workflow does",
        ),
        (
            {"context": "x", "external": True, "covers": ["linting"]},
            "branchRules.requiredChecks[3].covers[0]",
            "must be one of 'dependencyReview' or 'codeScanning' (got 'linting')",
        ),
        ({"context": ""}, "branchRules.requiredChecks[3].context", "must not be empty"),
    ],
)
def test_a_malformed_check_is_one_line_naming_the_key(
    check: dict[str, Any], key: str, message: str, tmp_path: Path
) -> None:
    checks = ["Tests", "Code Quality", "Dependency Review", check]
    report = config_problems(_engine(branchRules={"requiredChecks": checks}), tmp_path)
    assert report.startswith(f"{REPO_KEY}.{key}: {message}"), report


def test_two_managed_workflows_reporting_one_check_are_refused(tmp_path: Path) -> None:
    enabled = ["tests", "code-quality", "dependency-check", "dependency-review", "codeql"]
    report = config_problems(_engine(workflows={"enabled": enabled}), tmp_path)
    assert report == (
        f"{REPO_KEY}.workflows.enabled: check 'Dependency Review' is reported by "
        ".github/workflows/dependency-check.yml and .github/workflows/dependency-review.yml: a "
        "required check must mean one job; enable one of them"
    )


def test_a_control_declared_external_needs_the_licence_a_managed_one_would(
    tmp_path: Path,
) -> None:
    def mutate(config: dict[str, Any]) -> None:
        _engine(**OWN_CI)(config)
        group = config["tbcoin-platform:github"]["groups"]["production-services"]
        group["security"]["codeSecurityLicensed"] = False

    lines = config_problems(mutate, tmp_path).splitlines()
    assert sorted(lines) == [
        f"{REPO_KEY}.branchRules.requiredChecks: external check '{context}' stands for "
        f"{control}, which cannot work here: {feature} needs GitHub Code Security on a private "
        "repository: set security.codeSecurityLicensed: true once the licence covers it"
        for context, control, feature in (
            ("Analyze (go)", "codeScanning", "code scanning"),
            ("dependency-review", "dependencyReview", "dependency review"),
        )
    ]


# --- Dependabot: every ecosystem the schema accepts, in any folders -----------------------------


def test_the_vendored_schema_is_the_one_check_jsonschema_ships() -> None:
    import check_jsonschema

    shipped = Path(check_jsonschema.__file__).parent / "builtin_schemas/vendor/dependabot.json"
    assert SCHEMA.read_bytes() == shipped.read_bytes()


def test_every_ecosystem_the_schema_accepts_renders_a_valid_dependabot_file(
    tmp_path: Path,
) -> None:
    entries = [{"ecosystem": e, "directories": [f"/{e}"]} for e in ecosystems()]
    entries.append({"ecosystem": "gomod", "directories": ["/services/*", "/tools"]})
    files = _files(_settings(workflows={"enabled": []}, dependabot={"ecosystems": entries}))
    path = tmp_path / "dependabot.yml"
    path.write_text(files[".github/dependabot.yml"])
    proc = check_jsonschema("vendor.dependabot", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    updates = yaml.safe_load(path.read_text())["updates"]
    assert [u["package-ecosystem"] for u in updates] == [*ecosystems(), "gomod"]
    assert updates[0]["directory"] == f"/{ecosystems()[0]}"  # one folder, no glob
    assert updates[-1]["directories"] == ["/services/*", "/tools"]
    assert (
        updates[-1]["labels"]
        == ["dependencies", ecosystem_label("gomod")]
        == [
            "dependencies",
            "go",
        ]
    )


def test_mutation_the_schema_refuses_what_the_model_would_not_write(tmp_path: Path) -> None:
    """The schema check above can fail: an ecosystem outside its enum is refused."""
    path = tmp_path / "dependabot.yml"
    text = _files(_settings())[".github/dependabot.yml"].replace(
        "ecosystem: pip", "ecosystem: pipenv"
    )
    path.write_text(text)
    assert check_jsonschema("vendor.dependabot", path).returncode != 0


@pytest.mark.parametrize(
    ("dependabot", "key", "message"),
    [
        (
            {"ecosystems": [{"ecosystem": "pipenv"}]},
            "dependabot.ecosystems[0].ecosystem",
            "must be one of bazel, bun, bundler,",
        ),
        (
            {"ecosystems": [{"ecosystem": "pip", "directory": "/"}]},
            "dependabot.ecosystems[0].directory",
            "renamed to directories, a list of folders such as ['/'] (globs allowed)",
        ),
        (
            {
                "ecosystems": [
                    {"ecosystem": "pip", "directories": ["/", "/a"]},
                    {"ecosystem": "pip"},
                ]
            },
            "dependabot.ecosystems",
            "pip in / listed more than once: Dependabot takes one entry per ecosystem and folder",
        ),
        (
            {"ecosystems": [{"ecosystem": "pip", "directories": ["src"]}]},
            "dependabot.ecosystems[0].directories[0]",
            "must be an absolute folder (a glob) in the repository",
        ),
    ],
)
def test_bad_dependabot_entries_are_one_line_naming_the_key(
    dependabot: dict[str, Any], key: str, message: str, tmp_path: Path
) -> None:
    report = config_problems(_engine(dependabot=dependabot), tmp_path)
    assert report.startswith(f"{REPO_KEY}.{key}: {message}"), report


def test_a_missing_dependabot_label_names_both_layers(tmp_path: Path) -> None:
    def mutate(config: dict[str, Any]) -> None:
        github = config["tbcoin-platform:github"]
        github["groups"]["production-services"]["dependabot"] = {
            "ecosystems": [{"ecosystem": "cargo"}]
        }

    assert config_problems(mutate, tmp_path) == (
        "Pulumi.prod.yaml: tbcoin-platform:github.defaults.labels: Dependabot labels its cargo "
        "PRs 'rust' (ecosystems of github.groups.production-services.dependabot.ecosystems), "
        "which is not a declared label"
    )


# --- CodeQL: the languages of the repository, in GitHub's identifiers ---------------------------


def _codeql(languages: list[str]) -> dict[str, Any]:
    settings = _settings(workflows={"enabled": ["codeql"], "codeqlLanguages": languages})
    return yaml.safe_load(_files(settings)[".github/workflows/codeql.yml"])  # type: ignore[no-any-return]


def test_one_language_keeps_one_job_and_builds_a_compiled_one() -> None:
    (job,) = _codeql(["go"])["jobs"].values()
    init = job["steps"][1]["with"]
    assert init == {"languages": "go", "build-mode": "autobuild"}
    assert check_names(_codeql(["go"])) == {"CodeQL Analyze"}
    assert _codeql(["python"])["jobs"]["analyze"]["steps"][1]["with"] == {"languages": "python"}


def test_several_languages_are_one_job_each_and_their_checks_are_named_so() -> None:
    document = _codeql(["go", "javascript-typescript", "java-kotlin"])
    matrix = document["jobs"]["analyze"]["strategy"]["matrix"]["include"]
    assert matrix == [
        {"language": "go", "build-mode": "autobuild"},
        {"language": "javascript-typescript", "build-mode": "none"},
        {"language": "java-kotlin", "build-mode": "none"},
    ]
    assert check_names(document) == {
        "CodeQL Analyze (go)",
        "CodeQL Analyze (javascript-typescript)",
        "CodeQL Analyze (java-kotlin)",
    }


def test_every_language_renders_a_workflow_the_schema_and_actionlint_accept(
    tmp_path: Path,
) -> None:
    every = list(get_args(CodeqlLanguage))
    paths = []
    for i, languages in enumerate([[x] for x in every] + [every]):
        settings = _settings(workflows={"enabled": ["codeql"], "codeqlLanguages": languages})
        path = tmp_path / f"codeql-{i}.yml"
        path.write_text(_files(settings)[".github/workflows/codeql.yml"])
        paths.append(path)
    proc = check_jsonschema("vendor.github-workflows", *paths)
    assert proc.returncode == 0, proc.stdout
    assert actionlint(*paths) == []


def test_a_required_check_of_a_language_it_does_not_analyse_is_refused(tmp_path: Path) -> None:
    layer = {
        "workflows": {
            "enabled": ["dependency-review", "codeql"],
            "codeqlLanguages": ["go", "ruby"],
        },
        "branchRules": {"requiredChecks": ["Dependency Review", "CodeQL Analyze (python)"]},
        "dependabot": {"ecosystems": [{"ecosystem": "gomod"}]},
    }
    report = config_problems(_engine(**layer), tmp_path)
    assert "required check 'CodeQL Analyze (python)' is reported by no job" in report
    assert (
        "the managed workflows report: 'CodeQL Analyze (go)', 'CodeQL Analyze (ruby)', " in report
    )


def test_an_alternative_identifier_is_refused_with_the_list(tmp_path: Path) -> None:
    report = config_problems(_engine(workflows={"codeqlLanguages": ["typescript"]}), tmp_path)
    assert report.startswith(
        f"{REPO_KEY}.workflows.codeqlLanguages[0]: must be one of 'actions', 'c-cpp', "
    ), report


# --- optional files and Pages -------------------------------------------------------------------


def test_the_seed_python_set_stays_the_default() -> None:
    files = _files(_settings())
    assert ".pre-commit-config.yaml" in files
    assert {p.rsplit("/", 1)[-1] for p in files if p.startswith(".github/workflows/")} == {
        "tests.yml", "code-quality.yml", "dependency-check.yml", "docker-build.yml", "codeql.yml",
        "docs.yml",
    }  # fmt: skip
    assert json.dumps(_settings().model_dump(by_alias=True)["branchRules"]["requiredChecks"]) == (
        '["Tests", "Code Quality", "Dependency Review"]'
    )


def test_the_docs_workflow_without_pages_is_refused(tmp_path: Path) -> None:
    assert config_problems(_engine(pages=False), tmp_path) == (
        f"{REPO_KEY}.pages: the managed docs workflow publishes to GitHub Pages, which this "
        "leaves off: set pages: true, or drop docs from workflows.enabled"
    )
