"""A mock monitor that records every registration with its options, in the engine's URN form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from infractl.errors import UsageError
from infractl.resources_file import load_resources_json
from infractl.synth.values import engine_encoded, plain

STACK_TYPE = "pulumi:pulumi:Stack"
# GitHub's default labels of a new repository (docs.github.com, "Managing labels").
GITHUB_DEFAULT_LABELS = (
    "bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted",
    "invalid", "question", "wontfix",
)  # fmt: skip


def normalise_urn(urn: str) -> str:
    """Mock URNs put the root stack in the type chain; the engine's do not."""
    return urn.replace(f"::{STACK_TYPE}$", "::")


def _provider_ref(ref: str) -> str:
    """Provider references are `<urn>::<id>`; the URN alone identifies the provider."""
    return normalise_urn(ref.rsplit("::", 1)[0])


def stable_hex(*parts: str, length: int = 64) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


@dataclass
class Captured:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    # The inputs as the engine encodes them (secrets and all), for the policy analyzer.
    raw: struct_pb2.Struct = field(default_factory=struct_pb2.Struct, repr=False, compare=False)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Captured:
        """A resource read back from resources.json (a secret's placeholder is a secret again)."""
        return cls(
            data["urn"], data["type"], data["name"], data["custom"], data["inputs"],
            data["options"], struct_of(engine_encoded(data["inputs"])),
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "inputs": self.inputs,
            "options": self.options,
        }


def read_resources(folder: Path) -> list[Captured]:
    """The resources of a synth output folder (its resources.json)."""
    path = folder / "resources.json"
    if not path.exists():  # anything else there (a folder, a FIFO) is named when it is read
        raise UsageError(f"{path} not found: write it with `infractl synth --out {folder}`")
    data = load_resources_json(path)
    try:
        return [Captured.from_json(r) for r in data]
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise UsageError(f"{path}: not a synth output (bad resource entry: {exc!r})") from None


def struct_of(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _copy(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    copy = struct_pb2.Struct()
    copy.CopyFrom(struct)
    return copy


def _options(request: Any) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    parent = normalise_urn(request.parent)
    if parent and not parent.split("::")[-2].endswith(STACK_TYPE):
        opts["parent"] = parent
    if request.HasField("protect"):
        opts["protect"] = request.protect
    if request.HasField("retainOnDelete"):
        opts["retainOnDelete"] = request.retainOnDelete
    if request.deleteBeforeReplaceDefined:
        opts["deleteBeforeReplace"] = request.deleteBeforeReplace
    if request.dependencies:
        opts["dependsOn"] = sorted(normalise_urn(u) for u in request.dependencies)
    if request.provider:
        opts["provider"] = _provider_ref(request.provider)
    for name in ("ignoreChanges", "replaceOnChanges", "additionalSecretOutputs"):
        values = list(getattr(request, name))
        if values:
            opts[name] = sorted(values)
    if request.importId:
        opts["import"] = request.importId
    return opts


class CapturingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.captured: list[Captured] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            raw = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
            self.captured.append(
                Captured(
                    urn=normalise_urn(response.urn),
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    inputs=plain(raw, normalise_urn),
                    options=_options(request),
                    raw=_copy(request.object),
                    property_dependencies={
                        key: sorted(normalise_urn(u) for u in deps.urns)
                        for key, deps in request.propertyDependencies.items()
                    },
                )
            )
        return response


class StableMocks(Mocks):
    """Plausible, deterministic ids and computed outputs; inputs echo back as outputs."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.startswith("kubernetes:") and not args.typ.startswith("kubernetes:helm"):
            meta = outputs.get("metadata") or {}
            ns = meta.get("namespace")
            ident = f"{ns}/{meta.get('name', args.name)}" if ns else meta.get("name", args.name)
            return ident, outputs
        if args.typ == "docker:index/image:Image":
            repository = str(outputs.get("imageName", args.name)).rsplit(":", 1)[0]
            digest = f"sha256:{stable_hex(args.typ, args.name, repository)}"
            outputs["repoDigest"] = f"{repository}@{digest}"
            return digest, outputs
        if args.typ.startswith("pulumi:providers:"):
            return stable_hex(args.typ, args.name, length=36), outputs
        return f"{args.name}-{stable_hex(args.typ, args.name, length=8)}", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "github:index/getTeam:getTeam":
            slug = str(args.args.get("slug", ""))
            team_id = str(int(stable_hex("team", slug, length=7), 16))
            return {"id": team_id, "slug": slug, "name": slug, "nodeId": f"T_{team_id}"}, []
        if args.token == "github:index/getIssueLabels:getIssueLabels":
            # An adopted repository is assumed to carry the labels GitHub gives a new one.
            labels = [{"name": name, "color": "ededed"} for name in GITHUB_DEFAULT_LABELS]
            return {"repository": args.args.get("repository"), "labels": labels}, []
        return {}, []
