"""Write a synth result to disk: resources.json plus one file per rendered object."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from infractl.synth.capture import Captured

# Each renderer turns captured resources into {relative path: file content}.
Renderer = Callable[[list[Captured]], dict[str, str]]


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)


def resources_json(resources: list[Captured]) -> dict[str, str]:
    return {"resources.json": dump_json([r.as_json() for r in resources])}


def kubernetes_manifest(resource: Captured) -> dict[str, Any] | None:
    """The object the Kubernetes provider would send to the API server, or None."""
    inputs = resource.inputs
    if not resource.type.startswith("kubernetes:") or "apiVersion" not in inputs:
        return None
    head = {"apiVersion": inputs["apiVersion"], "kind": inputs["kind"]}
    return {**head, **{k: v for k, v in inputs.items() if k not in head}}


def kubernetes_files(resources: list[Captured]) -> dict[str, str]:
    files: dict[str, str] = {}
    for resource in resources:
        manifest = kubernetes_manifest(resource)
        if manifest is None:
            continue
        meta = manifest.get("metadata", {})
        folder = meta.get("namespace", "_cluster")
        path = f"kubernetes/{folder}/{manifest['kind'].lower()}-{meta.get('name')}.yaml"
        if path in files:
            raise ValueError(f"two Kubernetes objects render to {path}")
        files[path] = dump_yaml(manifest)
    return files


RENDERERS: list[Renderer] = [resources_json, kubernetes_files]


def render(resources: list[Captured], renderers: Iterable[Renderer] = RENDERERS) -> dict[str, str]:
    files: dict[str, str] = {}
    for renderer in renderers:
        files.update(renderer(resources))
    return files


def write_tree(out: Path, files: dict[str, str]) -> None:
    """Replace `out` with exactly these files; a failure leaves the previous `out` untouched."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel, content in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
