"""The project and stack files are what the real Pulumi CLI accepts."""

from __future__ import annotations

import json

import jsonschema
import yaml

from infra.config import StackConfig
from infra.stack import load_stack
from infractl.stackfile import read_stack_file
from tests.conftest import REPO, vendored


def test_pulumi_yaml_validates_against_pulumis_project_schema() -> None:
    schema = json.loads(vendored("pulumi-schema", "pulumi--project.json").read_text())
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(project)
    assert project["name"] == "tbcoin-platform"
    assert project["main"].rstrip("/") == "infra"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"


def test_project_schema_rejects_a_broken_project() -> None:
    """The schema check is not vacuous: a project without a name fails it."""
    schema = json.loads(vendored("pulumi-schema", "pulumi--project.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors({"runtime": "python"}))
    assert errors


def test_both_stack_files_parse_into_stack_config() -> None:
    for stack in ("staging", "prod"):
        path = REPO / f"Pulumi.{stack}.yaml"
        stack_file = read_stack_file(path)
        config = load_stack(path.name, stack_file.config, stack=stack)
        assert isinstance(config, StackConfig)
        assert config.environments


def test_policy_pack_project_file_is_what_the_engine_reads() -> None:
    pack = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["name"] == "python"
    assert pack["runtime"]["options"]["virtualenv"]  # packs get no virtualenv unless named
    assert set(pack) <= {
        "runtime",
        "version",
        "main",
        "description",
        "author",
        "website",
        "license",
    }
    requirements = (REPO / "policies" / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements


def test_policy_pack_pins_match_the_project() -> None:
    """Offline the pack runs in the project's venv; the engine uses policies/venv: same pins."""
    import re

    project = (REPO / "pyproject.toml").read_text().lower()
    for line in (REPO / "policies" / "requirements.txt").read_text().lower().splitlines():
        name, version = line.split("==")
        assert re.search(rf'"{re.escape(name)}=={re.escape(version)}"', project), line
