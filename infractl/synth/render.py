"""Write a synth result to disk: resources.json plus one file per rendered object."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from infractl.synth.capture import Captured
from infractl.synth.harness import SynthResult
from infractl.synth.outdir import replace_output
from infractl.synth.summary import synth_summary
from infractl.synth.values import SECRET_SHOWN

# Each renderer turns a synth result into {relative path: file content}.
Renderer = Callable[[SynthResult], dict[str, str]]


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# The YAML of recent documents by their repr (which tells apart all that safe_dump writes
# differently: types, key order, values). PyYAML's emitter is most of a render, and a long-running
# `check --watch` renders the same objects on every save; a one-shot synth renders each once.
_YAML_SEEN: dict[str, str] = {}
_YAML_SEEN_MAX = 4096


def dump_yaml(data: Any) -> str:
    key = repr(data)
    text = _YAML_SEEN.get(key)
    if text is None:
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
        if len(_YAML_SEEN) >= _YAML_SEEN_MAX:
            _YAML_SEEN.clear()
        _YAML_SEEN[key] = text
    return text


def resources_json(result: SynthResult) -> dict[str, str]:
    return {"resources.json": dump_json([r.as_json() for r in result.resources])}


def kubernetes_manifest(resource: Captured) -> dict[str, Any] | None:
    """The object the Kubernetes provider would send to the API server, or None."""
    inputs = resource.inputs
    if not resource.type.startswith("kubernetes:") or "apiVersion" not in inputs:
        return None
    head = {"apiVersion": inputs["apiVersion"], "kind": inputs["kind"]}
    body = {k: v for k, v in inputs.items() if k not in head}
    # pulumi_kubernetes marks a Secret's whole data map secret; keep the manifest well-formed.
    for field in ("data", "stringData"):
        if body.get(field) == SECRET_SHOWN:
            body[field] = {"redacted": SECRET_SHOWN}
    return {**head, **body}


def kubernetes_files(result: SynthResult) -> dict[str, str]:
    files: dict[str, str] = {}
    for resource in result.resources:
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


def github_files(result: SynthResult) -> dict[str, str]:
    """Effective settings per repository, and each managed file as the provider would commit it."""
    files: dict[str, str] = {}
    if result.config.github is not None:
        for repo, effective in result.config.github.settings.items():
            files[f"github/{repo}/settings.json"] = dump_json(
                effective.model_dump(mode="json", by_alias=True)
            )
    for resource in result.resources:
        if resource.type == "github:index/repositoryFile:RepositoryFile":
            inputs = resource.inputs
            files[f"github/{inputs['repository']}/files/{inputs['file']}"] = inputs["content"]
    return files


def scorecard_files(result: SynthResult) -> dict[str, str]:
    """The predicted OpenSSF Scorecard of each governed repository."""
    return {f"github/{p.name}/scorecard.json": dump_json(p.as_dict()) for p in result.predictions}


def monitoring_files(result: SynthResult) -> dict[str, str]:
    """Plain Prometheus rule files (each PrometheusRule's spec), their promtool unit tests, and
    the dashboards the Grafana sidecar would load."""
    from infra.monitoring.rules import rule_group_name
    from infra.monitoring.target import monitored_services
    from infractl.synth.promtool import promtool_tests

    files: dict[str, str] = {}
    for resource in result.resources:
        manifest = kubernetes_manifest(resource)
        if manifest is None:
            continue
        name = manifest["metadata"].get("name")
        if manifest["kind"] == "PrometheusRule":
            files[f"prometheus/rules/{name}.yaml"] = dump_yaml(manifest["spec"])
        elif manifest["kind"] == "ConfigMap" and manifest["metadata"].get("labels", {}).get(
            "grafana_dashboard"
        ):
            for key, board in manifest.get("data", {}).items():
                files[f"grafana/dashboards/{key}"] = board + "\n"
    m = result.config.monitoring
    if m is not None:
        for svc in monitored_services(result.config):
            name = rule_group_name(svc)
            for step, tests in promtool_tests(svc, m, f"../rules/{name}.yaml").items():
                suffix = "" if step == "1m" else f".every-{step}"
                files[f"prometheus/tests/{name}{suffix}.test.yaml"] = dump_yaml(tests)
    return files


RENDERERS: list[Renderer] = [
    resources_json,
    kubernetes_files,
    github_files,
    scorecard_files,
    monitoring_files,
]


def render(result: SynthResult, renderers: Iterable[Renderer] = RENDERERS) -> dict[str, str]:
    files: dict[str, str] = {}
    for renderer in renderers:
        files.update(renderer(result))
    return files


def write_output(result: SynthResult, out: Path) -> str:
    """Render the synth into `out`; returns the summary a terminal shows."""
    from infractl.scorecard_report import summary_lines

    files = render(result)
    replace_output(out, files, cwd=Path.cwd())
    scores = summary_lines(result.predictions)
    return synth_summary(result.stack, result.resources, out, sorted(files), scores)
