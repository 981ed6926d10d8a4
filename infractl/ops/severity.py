"""Rank each drifted property by the table in drift_rules.toml, and recognise the expected ones
(controller-owned, server-filled, or ignored by the program's own ignoreChanges)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from infractl.errors import InfractlError
from infractl.ops.engine_output import MISSING, Change, split_path
from secret_patterns.names import is_credential_name

RULES_FILE = Path(__file__).with_name("drift_rules.toml")
SEVERITIES = ("critical", "high", "low")
EXPECTED = "expected"
UNCLASSIFIED = "not classified in infractl/ops/drift_rules.toml; treated as high until it is"
SEVERITY_WHEN = {"", "increase", "delete", "protected-delete"}
EXPECTED_WHEN = {"", "autoscaled"}
# A coarse diff (say `spec`) is split into the leaves that differ, so a rule on a deeper path
# (`spec.template.spec.securityContext`) still sees it; past this many leaves it stays coarse.
MAX_LEAVES = 64
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Engine-output secrets are "[secret]" or carry Pulumi's secret signature; the last property's
# name is a second net.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class RulesError(InfractlError):
    """drift_rules.toml is malformed."""


@dataclass(frozen=True)
class Rule:
    type: str
    path: tuple[str, ...]
    severity: str
    why: str
    when: str = ""

    def matches(self, type_: str, segments: list[str | int]) -> bool:
        return (
            fnmatchcase(type_, self.type)
            and len(segments) >= len(self.path)
            and all(fnmatchcase(str(s), p) for s, p in zip(segments, self.path, strict=False))
        )


def _pattern(path: str) -> tuple[str, ...]:
    if not path:
        return ()
    segments = split_path(path.replace("[*]", '["*"]'))
    if not segments:
        raise RulesError(f"{RULES_FILE.name}: cannot read property path {path!r}")
    return tuple(str(s) for s in segments)


def load_rules(path: Path = RULES_FILE) -> tuple[list[Rule], list[Rule]]:
    """The severity rules and the expected-change rules, checked for shape."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if set(data) - {"severity", "expected"}:
        raise RulesError(
            f"{path.name}: unknown tables {sorted(set(data) - {'severity', 'expected'})}"
        )
    tables: list[list[Rule]] = []
    for table, allowed_when in (("severity", SEVERITY_WHEN), ("expected", EXPECTED_WHEN)):
        rules = []
        for i, entry in enumerate(data.get(table, [])):
            where = f"{path.name}: {table}[{i}]"
            keys = {"type", "path", "why", "when"} | (
                {"severity"} if table == "severity" else set()
            )
            if set(entry) - keys or not {"type", "path", "why"} <= set(entry):
                raise RulesError(f"{where}: keys must be {sorted(keys)} (when is optional)")
            severity = entry.get("severity", EXPECTED)
            if table == "severity" and severity not in SEVERITIES:
                raise RulesError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
            if entry.get("when", "") not in allowed_when:
                raise RulesError(f"{where}: when must be one of {sorted(allowed_when - {''})}")
            rules.append(
                Rule(
                    entry["type"],
                    _pattern(entry["path"]),
                    severity,
                    entry["why"],
                    entry.get("when", ""),
                )
            )
        tables.append(rules)
    return tables[0], tables[1]


@dataclass
class Program:
    """What the program itself says about its resources (from the synth's resources.json)."""

    ignore_changes: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    autoscaled: set[str] = field(default_factory=set)
    known: bool = False

    @classmethod
    def from_resources(cls, resources: list[Any]) -> Program:
        """From resources.json; entries of the wrong shape add nothing."""
        program = cls(known=True)
        by_name: dict[tuple[str, str, str], str] = {}
        targets: list[tuple[str, str, str]] = []
        for resource in resources:
            resource = _mapping(resource)
            urn, options = str(resource.get("urn", "")), _mapping(resource.get("options"))
            inputs = _mapping(resource.get("inputs"))
            ignored = options.get("ignoreChanges")
            program.ignore_changes[urn] = [
                tuple(map(str, split_path(p)))
                for p in (ignored if isinstance(ignored, list) else [])
                if isinstance(p, str)
            ]
            if options.get("protect") is True:
                program.protected.add(urn)
            meta = _mapping(inputs.get("metadata"))
            kind, name, namespace = inputs.get("kind"), meta.get("name"), meta.get("namespace", "")
            if isinstance(kind, str) and isinstance(name, str):
                by_name[(kind, str(namespace), name)] = urn
            if kind == "HorizontalPodAutoscaler":
                ref = _mapping(_mapping(inputs.get("spec")).get("scaleTargetRef"))
                targets.append((str(ref.get("kind")), str(namespace), str(ref.get("name"))))
        program.autoscaled = {by_name[t] for t in targets if t in by_name}
        return program


@dataclass
class Finding:
    urn: str
    type: str
    path: str  # "" for the resource itself
    old: Any
    new: Any
    severity: str  # one of SEVERITIES, or EXPECTED
    why: str

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def key(self) -> str:
        return f"{self.urn} {self.path}"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def leaves(path: str, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """The differing leaves under `path`; the pair itself if it has too many or is not nested."""
    found: list[tuple[str, Any, Any]] = []

    def walk(at: str, a: Any, b: Any) -> None:
        if a == b or len(found) > MAX_LEAVES:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(_join(at, str(key)), a.get(key, MISSING), b.get(key, MISSING))
        elif isinstance(a, list) and isinstance(b, list):
            for i in range(max(len(a), len(b))):
                walk(_join(at, i), a[i] if i < len(a) else MISSING, b[i] if i < len(b) else MISSING)
        else:
            found.append((at, a, b))

    walk(path, old, new)
    return found if 0 < len(found) <= MAX_LEAVES else [(path, old, new)]


def _increased(old: Any, new: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool)
        and not isinstance(new, bool) and new > old
    )  # fmt: skip


def is_secret(type_: str, path: str, values: tuple[Any, Any]) -> bool:
    """By marker on either side (a secret turned plain text is still one), by resource type, or
    by property name."""
    text = json.dumps(values, sort_keys=True, default=str)
    if "[secret]" in text or SECRET_SIG in text or type_ == "kubernetes:core/v1:Secret":
        return True
    names = [s for s in split_path(path) if isinstance(s, str)]
    return bool(names) and is_credential_name(names[-1])


class Classifier:
    def __init__(self, program: Program, rules: tuple[list[Rule], list[Rule]] | None = None):
        self.program = program
        self.severity_rules, self.expected_rules = rules or load_rules()

    def classify(self, change: Change) -> list[Finding]:
        """Findings for one refresh step: each drifted leaf, or the resource itself if gone."""
        if change.op == "delete":
            protected = change.protected or change.urn in self.program.protected
            return [self._rank(change, "", [], MISSING, MISSING, protected)]
        findings = []
        for diff in change.diffs:
            for path, old, new in leaves(diff.path, diff.old, diff.new):
                findings.append(self._rank(change, path, split_path(path), old, new, False))
        return findings

    def _rank(
        self, change: Change, path: str, segments: list[str | int], old: Any, new: Any,
        protected: bool,
    ) -> Finding:  # fmt: skip
        def finding(severity: str, why: str) -> Finding:
            if is_secret(change.type, path, (old, new)):
                return Finding(change.urn, change.type, path, "[secret]", "[secret]", severity, why)
            return Finding(change.urn, change.type, path, old, new, severity, why)

        if path:
            strings = [str(s) for s in segments]
            for ignored in self.program.ignore_changes.get(change.urn, []):
                if ignored and strings[: len(ignored)] == list(ignored):
                    return finding(EXPECTED, "the program ignores changes to it (ignoreChanges)")
            for rule in self.expected_rules:
                if rule.matches(change.type, segments) and (
                    rule.when != "autoscaled" or change.urn in self.program.autoscaled
                ):
                    return finding(EXPECTED, rule.why)
        for rule in self.severity_rules:
            if not rule.matches(change.type, segments):
                continue
            if rule.when == "increase" and not _increased(old, new):
                continue
            if rule.when == "delete" and change.op != "delete":
                continue
            if rule.when == "protected-delete" and not (change.op == "delete" and protected):
                continue
            gone = change.op == "delete" and not rule.when
            return finding(rule.severity, f"the resource is gone; {rule.why}" if gone else rule.why)
        return finding("high", UNCLASSIFIED)
