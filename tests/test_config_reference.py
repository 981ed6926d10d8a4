"""The config describes itself (issue 30.1): every key carries its description, unit, default and
floor in the model; the reference, the JSON Schema editors use and `infractl explain` are
generated from it, and a test fails when a generated file is stale."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.config import describe
from infra.config.describe import REPOSITORY, canonical, keys, stack_file_schema
from infra.config.floor import POLICY, TABLE
from infra.config.model import StackConfig
from tests.conftest import REPO, infractl, load_stack

REFERENCE = REPO / "docs/reference/config.md"
SCHEMA = REPO / "docs/reference/stack-config.schema.json"


def test_every_key_of_the_model_says_what_it_does() -> None:
    models = describe.models()
    undescribed = [
        f"{model.__name__}.{name}"
        for model in models.values()
        for name, field in model.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert len(models) > 40 and undescribed == []


def test_every_listed_key_has_a_description_and_a_kind() -> None:
    listed = keys()
    assert len(listed) > 200
    for path, key in listed.items():
        named = path.endswith(">")  # a name of the user's choosing (a mapping's key)
        assert named or key.description, path
        assert key.kind, path


@pytest.mark.parametrize(
    ("command", "path"),
    [(("config", "reference"), REFERENCE), (("config", "schema"), SCHEMA)],
)
def test_the_generated_reference_is_fresh(command: tuple[str, ...], path: Path) -> None:
    run = infractl(*command)
    assert run.code == 0, run.stderr
    assert path.read_text() == run.stdout, (
        f"{path.relative_to(REPO)} is stale: run `infractl {' '.join(command)} > "
        f"{path.relative_to(REPO)}`"
    )


def test_a_description_changed_in_the_model_makes_the_reference_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The freshness test above can fail: the reference follows the model."""
    from infractl.explain import reference_markdown

    field = StackConfig.model_fields["kubernetes"]
    monkeypatch.setattr(field, "description", "Something else entirely.")
    StackConfig.model_rebuild(force=True)
    for cached in (describe._schemas, describe.namespace_schema, describe.keys):
        cached.cache_clear()
    try:
        assert "Something else entirely." in reference_markdown(REPO)
        assert reference_markdown(REPO) != REFERENCE.read_text()
    finally:
        monkeypatch.undo()
        StackConfig.model_rebuild(force=True)
        for cached in (describe._schemas, describe.namespace_schema, describe.keys):
            cached.cache_clear()


def _validator() -> jsonschema.Draft202012Validator:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_schema_accepts_both_stack_files(stack: str) -> None:
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    assert [e.message for e in _validator().iter_errors(document)] == []


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_each_stack_file_names_the_schema_for_editors(stack: str) -> None:
    first = (REPO / f"Pulumi.{stack}.yaml").read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match is not None, first
    assert (REPO / match.group(1)).resolve() == SCHEMA.resolve()


def _changed(path: list[str | int], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(load_stack("prod"))
    node: Any = document["config"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


NS = "tbcoin-platform"
REFUSED = {
    "an unknown key": ([f"{NS}:kubernetes", "flavour"], "vanilla"),
    "an unknown section": ([f"{NS}:kubernets"], {"replicas": 2}),
    "an old key": ([f"{NS}:services", "api", "strategy", "scaleDownDelaySeconds"], 600),
    "a misspelt repository setting in a group": (
        [f"{NS}:github", "groups", "production-services", "branchRules", "requiredAprovals"],
        2,
    ),
    "a misspelt key in a repository's own layer": (
        [f"{NS}:github", "repositories", "tbcoin-engine-ml", "visibilty"],
        "private",
    ),
    "a percentage where a ratio goes": ([f"{NS}:monitoring", "thresholds", "errorRatio"], 5),
    "a duration without a unit": ([f"{NS}:monitoring", "prometheus", "retention"], "30"),
    "a plain-text secret": ([f"{NS}:secrets"], {"token": "plain"}),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_schema_refuses_what_the_model_refuses(case: str) -> None:
    path, value = REFUSED[case]
    errors = list(_validator().iter_errors(_changed(path, value)))
    assert errors, case


def test_the_schema_takes_a_decimal_as_pulumi_writes_it() -> None:
    document = _changed([f"{NS}:services", "api", "strategy", "analysis", "errorRatio"], "0.02")
    assert list(_validator().iter_errors(document)) == []


def test_every_floor_row_names_a_key_the_config_has() -> None:
    """A row added to the floor's table names a real key (or a policy parameter of the pack):
    a misspelt one would hold nothing."""
    from infractl.explain import policy_keys

    parameters = policy_keys(REPO)
    for row in TABLE:
        if row.key.startswith(POLICY):
            assert row.key in parameters, row.key
        else:
            assert canonical(row.key) is not None, row.key
        if row.policy is not None:
            assert f"{POLICY}{row.policy[0]}.{row.policy[1]}" in parameters, row.policy


@pytest.mark.parametrize(
    ("written", "listed"),
    [
        (
            "services.api.strategy.analysis.errorRatio",
            "services.<service>.strategy.analysis.errorRatio",
        ),
        ("tbcoin-platform:kubernetes.replicas", "kubernetes.replicas"),
        (
            "services.inference.strategy.steps[2].weight",
            "services.<service>.strategy.steps[].weight",
        ),
        (
            "github.defaults.branchRules.requiredApprovals",
            f"{REPOSITORY}.branchRules.requiredApprovals",
        ),
        (
            "github.groups.production-services.environments.production.reviewers",
            f"{REPOSITORY}.environments.<env>.reviewers",
        ),
        ("secrets.grafana", "secrets.<secret>"),
        ("kubernetes.replica", None),
    ],
)
def test_a_key_as_written_is_found_under_its_listed_name(written: str, listed: str | None) -> None:
    assert canonical(written) == listed


def test_explain_says_what_a_key_is_and_where_each_stack_sets_it() -> None:
    run = infractl("explain", "github.repositories.tbcoin-engine-ml.branchRules.requiredApprovals")
    assert run.code == 0, run.stderr
    out = run.stdout
    assert out.startswith(f"{NS}:{REPOSITORY}.branchRules.requiredApprovals\n")
    assert "How many approving reviews a pull request needs" in out
    assert "value:    an integer (0 to 10)" in out and "default:  1" in out
    assert "floor:    prod: >= 2; staging: >= 1; why: OpenSSF Scorecard Branch-Protection" in out
    assert (
        "Pulumi.prod.yaml: github.groups.production-services.branchRules.requiredApprovals: 2"
        in out
    )
    assert "Pulumi.staging.yaml: github.defaults.branchRules.requiredApprovals: 1" in out
    assert (
        "prod: tbcoin-engine-ml.branchRules.requiredApprovals: 2 "
        "(github.groups.production-services)" in out
    )


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (
            "services.api.strategy.scaleDownDelaySeconds",
            "renamed to scaleDownDelay, a duration such as 10m",
        ),
        ("github.defaults.importExisting", "renamed to existing: {repository: true}"),
    ],
)
def test_explain_of_an_old_key_names_the_new_one(key: str, words: str) -> None:
    run = infractl("explain", key)
    assert (run.code, run.stdout) == (2, ""), run
    assert run.stderr.startswith(f"infractl: explain: {key!r} was {words}"), run.stderr
    assert run.stderr.count("\n") == 1


def test_explain_of_a_policy_parameter() -> None:
    run = infractl("explain", "policy:github-ruleset-reviews.requiredApprovals")
    assert run.code == 0, run.stderr
    assert "default:  2 (the pack's own, prod's floor)" in run.stdout
    assert "policies/config/staging.json: github-ruleset-reviews.requiredApprovals: 1" in run.stdout


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("kubernetes.replica", "did you mean 'kubernetes.replicas'?"),
        ("kubernetes.replicaz", "did you mean 'kubernetes.replicas'?"),
        (
            "policy:github-ruleset-reviews.minApprovals",
            "did you mean 'policy:github-ruleset-reviews.requiredApprovals'?",
        ),
        ("no.such.thing.at.all", "(`infractl config reference` lists them)"),
    ],
)
def test_explain_of_an_unknown_key_is_one_line_exit_2(key: str, hint: str) -> None:
    run = infractl("explain", key)
    assert (run.code, run.stdout) == (2, ""), run
    assert run.stderr == f"infractl: explain: no config key {key!r}; {hint}\n" or (
        run.stderr == f"infractl: explain: no config key {key!r} {hint}\n"
    ), run.stderr
