"""Production-grade workloads, held against third-party checkers (issue 35.7).

- kube-score on everything a stack installs: the program's own manifests and the objects its
  pinned charts render (infractl.policy.charts), each Rollout also seen as the Deployment it
  stands for (kube-score knows no Rollout; the checkov run does the same). Every finding is fixed
  or accepted one by one, with its reason, in policies/chart-baseline.yaml under
  `kube-score/<check>` (the program's own objects under `(program)`); a finding not listed fails,
  and so does an entry nothing matches any more.
- kubeconform in strict mode (unknown fields and duplicate keys refused) over the same objects,
  native kinds against Kubernetes' own schemas, custom resources against the vendored CRDs.

Both are built from their Go modules by `make tools` (tools/e2e/kube-score, tools/e2e/kubeconform).
"""

from __future__ import annotations

import copy
import functools
import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from infractl.policy.charts import HELM_RELEASE, Key, Obj, load_baseline
from infractl.synth.render import kubernetes_manifest
from tests.charts import KUBERNETES_VERSION, _crd_documents, _strict, render_release
from tests.conftest import REPO, synth, tool_path

STACKS = ("staging", "prod")
BASELINE = REPO / "policies" / "chart-baseline.yaml"
CHECK = "kube-score/"
PROGRAM = "(program)"
# kube-score's grades: 1 critical, 5 warning (7 almost OK and 10 OK pass).
FAILING_GRADES = {1: "critical", 5: "warning"}


def _as_scored(obj: Obj) -> Obj:
    """A Rollout as the Deployment it replaces; an autoscaler of a Rollout as one of that
    Deployment (so kube-score sees what it scales)."""
    if obj["kind"] == "Rollout":
        spec = {k: v for k, v in obj["spec"].items() if k in ("replicas", "selector", "template")}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": obj["metadata"],
                "spec": spec}  # fmt: skip
    target = obj.get("spec", {}).get("scaleTargetRef", {})
    if obj["kind"] == "HorizontalPodAutoscaler" and target.get("kind") == "Rollout":
        obj = copy.deepcopy(obj)
        obj["spec"]["scaleTargetRef"].update(apiVersion="apps/v1", kind="Deployment")
    return obj


def _name(obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}"


@functools.cache
def installed(stack: str) -> tuple[tuple[str, Obj], ...]:
    """(owner, object) for everything the stack installs: `(program)` or the chart's release."""
    objects: list[tuple[str, Obj]] = []
    for resource in synth(stack)[0].resources:
        declared = resource.as_json()
        if declared["type"] == HELM_RELEASE:
            release = declared["inputs"]["name"]
            objects += [(release, obj) for obj in render_release(declared)]
        elif (manifest := kubernetes_manifest(resource)) is not None:  # as synth writes it
            objects.append((PROGRAM, manifest))
    return tuple(objects)


def kube_score(objects: Iterable[tuple[str, Obj]], folder: Path) -> dict[Key, list[str]]:
    """(owner, "Kind namespace/name", "kube-score/<check>") -> what kube-score says."""
    owners = {}
    documents = []
    for owner, obj in objects:
        scored = _as_scored(obj)
        owners[_name(scored)] = owner
        documents.append(scored)
    path = folder / "objects.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    proc = subprocess.run(
        [tool_path("KUBE_SCORE", ".tools/bin/kube-score"), "score", "--output-format", "json",
         "--kubernetes-version", f"v{KUBERNETES_VERSION}", str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    found: dict[Key, list[str]] = {}
    for scored in json.loads(proc.stdout):
        meta = scored["object_meta"]
        name = f"{scored['type_meta']['kind']} {meta.get('namespace', '')}/{meta['name']}"
        for check in scored["checks"]:
            if check["skipped"] or check["grade"] not in FAILING_GRADES:
                continue
            said = "; ".join(
                f"{c.get('path') or ''} {c['summary']}".strip() for c in check.get("comments") or []
            )
            key = (owners[name], name, CHECK + check["check"]["id"])
            found.setdefault(key, []).append(f"{FAILING_GRADES[check['grade']]}: {said}")
    return found


def _accepted() -> dict[Key, str]:
    return {k: v for k, v in load_baseline(BASELINE).items() if k[2].startswith(CHECK)}


def _problems(found: dict[Key, list[str]], accepted: dict[Key, str]) -> list[str]:
    new = [
        f"new finding: {owner} {obj}: {check}: {' | '.join(sorted(set(said)))}"
        for (owner, obj, check), said in sorted(found.items())
        if (owner, obj, check) not in accepted
    ]
    stale = [f"stale baseline entry (no longer found): {' '.join(k)}" for k in sorted(accepted)
             if k not in found]  # fmt: skip
    return new + stale


def test_kube_score_findings_are_fixed_or_reasoned_one_by_one(tmp_path: Path) -> None:
    found: dict[Key, list[str]] = {}
    for stack in STACKS:
        for key, said in kube_score(installed(stack), tmp_path).items():
            found.setdefault(key, []).extend(said)
    assert _problems(found, _accepted()) == []
    # The program's own workloads pass every check that matters for running them.
    ours = {k[2] for k in found if k[0] == PROGRAM}
    assert not ours & {CHECK + "pod-probes-identical", CHECK + "container-resources"}


def test_a_weakened_workload_is_a_new_finding(tmp_path: Path) -> None:
    """Mutation: the app's readiness probe on its liveness path again (one `healthPath`), and a
    container without limits: kube-score names both, and the baseline accepts neither."""
    objects = [(owner, copy.deepcopy(obj)) for owner, obj in installed("prod")]
    rollout = next(o for owner, o in objects if owner == PROGRAM and o["kind"] == "Rollout")
    app = rollout["spec"]["template"]["spec"]["containers"][0]
    app["readinessProbe"] = copy.deepcopy(app["livenessProbe"])
    del app["resources"]["limits"]
    problems = _problems(kube_score(objects, tmp_path), _accepted())
    name = f"Deployment tbcoin-prod/{rollout['metadata']['name']}"
    assert any(f"{PROGRAM} {name}: kube-score/pod-probes-identical" in p for p in problems)
    assert any(f"{PROGRAM} {name}: kube-score/container-resources" in p for p in problems)


# --- kubeconform -----------------------------------------------------------------------------

SCHEMAS = (
    Path(kubernetes_validate.__file__).parent
    / "kubernetes-json-schema"
    / f"v{KUBERNETES_VERSION}.0-local-strict"
)
# How a kind's schema refers to a definition, and how definitions refer to each other.
_REF = re.compile(r"(?:/api/_definitions\.json)?#/\$defs/([^\"]+)")


def _kind_file(api_version: str, kind: str) -> str:
    """kubeconform's file name for a kind: `{{ .ResourceKind }}{{ .KindSuffix }}.json`."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix.lower()}.json"


@functools.cache
def _definitions() -> dict[str, Any]:
    return json.loads((SCHEMAS / "_definitions.json").read_text())["$defs"]  # type: ignore[no-any-return]


def _standalone(text: str) -> dict[str, Any]:
    """A Kubernetes schema of kubernetes-validate with the definitions it reaches inlined, the
    standalone form kubeconform reads (its `$id` dropped, so references resolve in the file)."""
    needed: set[str] = set()
    todo = set(_REF.findall(text))
    while todo:
        name = todo.pop()
        needed.add(name)
        todo |= set(_REF.findall(json.dumps(_definitions()[name]))) - needed
    schema = json.loads(_REF.sub(r"#/$defs/\1", text))
    schema.pop("$id", None)
    schema["$defs"] = {name: _definitions()[name] for name in needed}
    return schema  # type: ignore[no-any-return]


def _schema_folder(objects: Iterable[Obj], folder: Path) -> Path:
    """The schemas of these objects' kinds, named as kubeconform looks them up."""
    folder.mkdir(exist_ok=True)
    crds = _crd_documents()
    for api_version, kind in {(o["apiVersion"], o["kind"]) for o in objects}:
        path = folder / _kind_file(api_version, kind)
        group, _, version = api_version.rpartition("/")
        if (group, kind) in crds:
            crd = yaml.safe_load(crds[(group, kind)])
            served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
            path.write_text(json.dumps(_strict(served["schema"]["openAPIV3Schema"])))
        else:
            path.write_text(json.dumps(_standalone((SCHEMAS / path.name).read_text())))
    return folder


def kubeconform(objects: list[Obj], folder: Path) -> list[str]:
    """kubeconform -strict's refusals, one line each."""
    schemas = _schema_folder(objects, folder / "schemas")
    path = folder / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    proc = subprocess.run(
        [tool_path("KUBECONFORM", ".tools/bin/kubeconform"), "-strict", "-summary",
         "-output", "json", "-schema-location",
         f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json", str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(proc.stdout)
    assert report["summary"]["valid"] + report["summary"]["invalid"] > 0, proc.stdout
    return [
        f"{r['kind']} {r['name']}: {r['status']}: {r.get('msg', '')}"
        for r in report["resources"]
        if r["status"] != "statusValid"
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_kubeconform_strict_accepts_everything_a_stack_installs(stack: str, tmp_path: Path) -> None:
    objects = [obj for _, obj in installed(stack)]
    assert kubeconform(objects, tmp_path) == []


def test_kubeconform_refuses_an_unknown_field_and_a_wrong_type(tmp_path: Path) -> None:
    objects = [copy.deepcopy(obj) for _, obj in installed("prod")]
    rollout = next(o for o in objects if o["kind"] == "Rollout")
    strategy = rollout["spec"]["strategy"]
    strategy[next(iter(strategy))]["stepz"] = []
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    namespace["metadata"]["labels"] = ["not", "a", "map"]
    refused = kubeconform([rollout, namespace], tmp_path)
    assert len(refused) == 2, refused
    assert "stepz" in refused[0] or "stepz" in refused[1]
