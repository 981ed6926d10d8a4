"""What a config key is, from the config's own description: `infractl explain KEY`, and the
generated reference (docs/reference/config.md) and JSON Schema of a stack file.

Stack config and repository settings are described by the model (infra.config.describe); a
policy parameter (`policy:<policy>.<parameter>`) by the pack's own config schema; the floor of
either by the floor's one table (infra.config.floor). Where each stack sets a key is read from
its stack file and policy config as written.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.describe import (
    LAYERS,
    NONE,
    REPOSITORY,
    REQUIRED,
    Key,
    canonical,
    keys,
    renamed,
)
from infra.config.documents import DocumentError, load_yaml
from infra.config.errors import NAMESPACE, ConfigError
from infra.config.floor import POLICY, STACK_FLOORS, TABLE, Minimum, rows_for
from infractl.errors import UsageError
from infractl.policy.catalogue import pack_catalogue
from infractl.policy.config import load_policy_config
from infractl.stackfile import known_stacks, read_stack_file, stack_file_path
from secret_patterns import redact

SHOWN = 80  # characters of a value shown before it is cut


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return redact(text if len(text) <= SHOWN else text[: SHOWN - 3] + "...")


def policy_keys(project: Path) -> dict[str, Key]:
    """Every parameter of the pack's policies, as `policy:<policy>.<parameter>`."""
    found = {}
    for name, policy in sorted(pack_catalogue(project / "policies").items()):
        for parameter, schema in policy["properties"].items():
            kind = schema.get("type", "a value")
            found[f"{POLICY}{name}.{parameter}"] = Key(
                f"{POLICY}{name}.{parameter}",
                str(schema.get("description", "")),
                {"integer": "an integer", "boolean": "true or false", "array": "a list",
                 "object": "a mapping"}.get(kind, kind),
                schema.get("default", NONE),
                False,
            )  # fmt: skip
    return found


def _matches(pattern: list[str], node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Each concrete key below `node` that `pattern` (segments, `<...>` any name, `[]` every
    item) stands for, with its value as written."""
    if not pattern:
        yield path, node
        return
    part, rest = pattern[0], pattern[1:]
    items = part.endswith("[]")
    name = part.removesuffix("[]")
    join = f"{path}." if path else ""
    if not isinstance(node, dict):
        return
    names = sorted(node) if name.startswith("<") else [name] if name in node else []
    for key in names:
        value = node[key]
        if items and isinstance(value, list):
            for i, item in enumerate(value):
                yield from _matches(rest, item, f"{join}{key}[{i}]")
        elif not items:
            yield from _matches(rest, value, f"{join}{key}")


def _written(project: Path, stack: str, key: str) -> list[tuple[str, Any]]:
    """Where the stack file of `stack` sets `key`, each layer of repository settings apart."""
    try:
        document = load_yaml(stack_file_path(project, stack))
    except DocumentError:
        return []
    config = {
        k.removeprefix(f"{NAMESPACE}:"): v
        for k, v in ((document or {}).get("config") or {}).items()
        if isinstance(k, str) and k.startswith(f"{NAMESPACE}:")
    }
    patterns = [key]
    if key.startswith(f"{REPOSITORY}."):
        setting = key.removeprefix(f"{REPOSITORY}.")
        patterns = [f"{layer}.{setting}" for layer in LAYERS]
    return [found for pattern in patterns for found in _matches(pattern.split("."), config, "")]


def _in_effect(project: Path, stack: str, key: str) -> list[str]:
    """A repository setting as each repository of `stack` has it, and the layer it comes from."""
    from infra.config.floor import values_at
    from infra.stack import load_stack

    path = stack_file_path(project, stack)
    try:
        config = load_stack(path.name, read_stack_file(path).config, stack=stack)
    except ConfigError:
        return ["(the stack file is not valid: `infractl check` names the problems)"]
    if config.github is None:
        return []
    setting = key.removeprefix(f"{REPOSITORY}.")
    lines = []
    for repo, settings in sorted(config.github.settings.items()):
        for concrete, value in values_at(settings, setting.split("."), ""):
            layer = config.github.source(repo, concrete) or "the default"
            shown = value.model_dump(by_alias=True) if hasattr(value, "model_dump") else value
            lines.append(f"{repo}.{concrete}: {_show(shown)} ({layer})")
    return lines


def _floor_lines(rows: list[Minimum], policy: bool = False) -> list[str]:
    lines = []
    for row in rows:
        bounds = "; ".join(f"{stack}: {b.words}" for stack, b in sorted(row.stacks.items()))
        unbound = sorted(set(STACK_FLOORS) - set(row.stacks))
        if unbound:
            bounds += "; " + ", ".join(unbound) + ": none"
        tied = ""
        if row.policy and not policy:
            tied = f" (also held by {POLICY}{row.policy[0]}.{row.policy[1]})"
        lines.append(f"{bounds}; why: {row.reason}{tied}")
    return lines


@dataclass(frozen=True)
class Explained:
    key: Key
    text: str


def _unknown(key: str, known: list[str]) -> UsageError:
    hint = difflib.get_close_matches(key.removeprefix(f"{NAMESPACE}:"), known, n=1, cutoff=0.5)
    suffix = f"; did you mean '{hint[0]}'?" if hint else " (`infractl config reference` lists them)"
    return UsageError(f"explain: no config key {key!r}{suffix}")


def explain(key: str, project: Path) -> str:
    """Everything the config knows about `key`: what it does, its value, default and floor,
    and where each stack sets it."""
    policies = policy_keys(project)
    if key.startswith(POLICY):
        if key not in policies:
            raise _unknown(key, list(policies))
        return _explain_policy(policies[key], project)
    path = canonical(key)
    if path is None:
        parent, _, last = key.rpartition(".")
        if last in renamed() and (not parent or canonical(parent) is not None):
            raise UsageError(f"explain: {key!r} was renamed to {renamed()[last]}")
        raise _unknown(key, [*keys(), *policies])
    info = keys()[path]
    lines = [f"{NAMESPACE}:{path}", f"  {info.description or '(a name of your choosing)'}"]
    if path.startswith(f"{REPOSITORY}."):
        setting = path.removeprefix(f"{REPOSITORY}.")
        lines.append(
            f"  A repository setting: given in github.defaults.{setting}, "
            f"github.groups.<group>.{setting} or github.repositories.<repo>.{setting} "
            "(layers merge in that order, the last one given wins)."
        )
    lines += [f"  value:    {info.kind}", f"  default:  {_default(info)}"]
    floors = _floor_lines(rows_for(path))
    lines += [f"  floor:    {line}" for line in floors[:1]]
    lines += [f"            {line}" for line in floors[1:]]
    if not floors:
        lines.append("  floor:    none")
    stacks = known_stacks(project)
    written = [
        f"    {stack_file_path(project, stack).name}: {where}: {_show(value)}"
        for stack in stacks
        for where, value in _written(project, stack, path)
    ]
    lines += ["  set in:", *(written or ["    no stack sets it: the default applies"])]
    if path.startswith(f"{REPOSITORY}."):
        effect = [
            f"    {stack}: {line}" for stack in stacks for line in _in_effect(project, stack, path)
        ]
        if effect:
            lines += ["  in effect:", *effect]
    return "\n".join(lines)


def _explain_policy(info: Key, project: Path) -> str:
    policy, _, parameter = info.path.removeprefix(POLICY).partition(".")
    lines = [
        info.path,
        f"  {info.description}",
        f"  value:    {info.kind}",
        f"  default:  {_default(info)} (the pack's own, prod's floor)",
    ]
    floors = _floor_lines([r for r in TABLE if r.parameter == (policy, parameter)], policy=True)
    lines += [f"  floor:    {line}" for line in floors] or ["  floor:    none"]
    lines.append("  set in:")
    for stack in known_stacks(project):
        path = project / "policies" / "config" / f"{stack}.json"
        try:
            entry = load_policy_config(path).get(policy)
        except ConfigError:
            continue
        if isinstance(entry, dict) and parameter in entry:
            lines.append(f"    policies/config/{stack}.json: {policy}.{parameter}: "
                         f"{_show(entry[parameter])}")  # fmt: skip
    return "\n".join(lines)


def _default(info: Key) -> str:
    if info.default in (REQUIRED, NONE):
        return str(info.default)
    return NONE if info.default is None else _show(info.default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(info: Key) -> str:
    path = info.path
    if path.startswith(f"{REPOSITORY}."):
        path = path.removeprefix(f"{REPOSITORY}.")
    default = "" if info.section else _default(info)
    return (
        f"| `{_cell(path)}` | {_cell(info.kind)} | {_cell(default)} | {_cell(info.description)} |"
    )


HEADER = ["| key | value | default | what it does |", "|---|---|---|---|"]
INTRO = """\
<!-- Generated by `infractl config reference`; do not edit. A test keeps it fresh. -->
# Configuration reference

Every key of the `tbcoin-platform:` namespace of `Pulumi.<stack>.yaml`, of a repository's
settings, and of the policy config (`policies/config/<stack>.json`), generated from the config
model and the policy pack. `infractl explain KEY` says the same of one key, with where each
stack sets it; editors check a stack file as it is typed against
[stack-config.schema.json](stack-config.schema.json) (each stack file names it in a
`# yaml-language-server: $schema=...` line).

One vocabulary holds for every key:

- **durations**: an integer and a unit, `ms`, `s`, `m`, `h` or `d` (`500ms`, `30s`, `10m`, `7d`);
- **ratios**: a fraction from 0 to 1 (`0.05` is 5%), never a percentage;
- **sizes and CPU**: Kubernetes quantities (`250m`, `512Mi`, `2Gi`), CPU and memory always as
  `resources: {requests: {cpu, memory}, limits: {cpu, memory}}`;
- **charts**: `{name, repository, version}`;
- **numbers**: an integer is written as one; a number that may have a fraction may also be a
  decimal string, as `pulumi config set --path` writes it; at most 15 digits, never a boolean,
  NaN or infinity.

`<env>`, `<service>`, `<repo>`, `<group>`, `<name>` stand for a name of your choosing; `[]` for
each item of a list. A key renamed from an older vocabulary is refused with its new name.
"""


def reference_markdown(project: Path) -> str:
    """docs/reference/config.md."""
    lines = [INTRO]
    by_section: dict[str, list[Key]] = {}
    for path, info in keys().items():
        section = REPOSITORY if path.startswith(f"{REPOSITORY}.") else path.split(".")[0]
        by_section.setdefault(section, []).append(info)
    for section, infos in by_section.items():
        if section == REPOSITORY:
            continue
        lines += [f"## {section}", "", *HEADER, *(_row(i) for i in infos), ""]
    lines += [
        "## Repository settings",
        "",
        "Each key below may be given in `github.defaults`, in `github.groups.<group>` or in",
        "`github.repositories.<repo>`; the layers merge in that order (mappings key by key,",
        "lists and values replaced) and the last one given wins.",
        "",
        *HEADER,
        *(_row(i) for i in by_section[REPOSITORY]),
        "",
        "## Policy config",
        "",
        "`policies/config/<stack>.json`: each policy's level (`all`, or per policy",
        "`enforcementLevel`: mandatory, advisory, disabled) and these parameters. The floor's",
        "parameters are written by `infractl policies sync-config`.",
        "",
        *HEADER,
        *(_row(i) for i in policy_keys(project).values()),
        "",
        "## Floors",
        "",
        "What no config change may weaken, per stack (`infra/config/floor.py`, one table); a",
        "stack without a floor of its own gets prod's. A key below the floor is a config error",
        "(exit 2) naming the key and the reason.",
        "",
        "| key | " + " | ".join(sorted(STACK_FLOORS)) + " | why |",
        "|---|" + "---|" * len(STACK_FLOORS) + "---|",
    ]
    for row in TABLE:
        bounds = [
            _cell(row.stacks[s].words) if s in row.stacks else "" for s in sorted(STACK_FLOORS)
        ]
        lines.append(f"| `{_cell(row.key)}` | " + " | ".join(bounds) + f" | {_cell(row.reason)} |")
    lines += ["", "Policies each stack's policy config may not set below mandatory:", ""]
    for stack, floor in sorted(STACK_FLOORS.items()):
        policies = (
            "every policy"
            if floor.mandatory_policies is None
            else ", ".join(f"`{p}`" for p in sorted(floor.mandatory_policies))
        )
        lines.append(f"- {stack}: {policies}; {floor.reason}.")
    return "\n".join(lines) + "\n"


def stack_schema_json() -> str:
    """docs/reference/stack-config.schema.json."""
    from infra.config.describe import stack_file_schema

    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"
