"""How the constructed engine outputs in this folder were made (they are NOT recorded runs).

    .venv/bin/infractl synth --stack prod --out out/prod
    .venv/bin/python -m tests.engine_outputs.construct --record out/prod/resources.json

No public recording of `pulumi refresh --preview-only` over GitHub or Kubernetes resources was
found, so these take the real URNs and inputs of the prod synth and wrap them in the event shapes
of the vendored engine golden output
(vendor/pulumi-engine-outputs/pulumi-lifecycle-TestRefreshBasics-all-0-0-preview--eventstream.json):
a `resourcePreEvent` with op `refresh`, then a `resOutputsEvent` whose op is the outcome (`same`,
`update`, `delete`) with `detailedDiff {path: {diffKind, inputDiff}}`, then a `summaryEvent` with
`isPreview: true`. The pending-changes file uses the preview shape of the vendored
webserver-userdata stream (`resourcePreEvent` + `resOutputsEvent`, op `update`). The values
changed are listed in DRIFTS and PENDING below; some carry hostile Markdown on purpose.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
HOSTILE = "@tbcoin/admins </details> ![x](https://evil.example/p.png) `` ` | <b>bold</b>"

# (resource name, property path, kind, mutate(inputs)); a None path is a deletion.
DRIFTS: list[tuple[str, str | None, str, Any]] = [
    ("tbcoin-engine-ml-default-branch", "enforcement", "update",
     lambda i: i.update(enforcement="evaluate")),
    ("tbcoin-engine-ml-default-branch", "bypassActors", "update",
     lambda i: i.update(bypassActors=[
         {"actorId": 5, "actorType": "RepositoryRole", "bypassMode": "always"}])),
    ("tbcoin-engine-ml", "securityAndAnalysis.secretScanningPushProtection.status", "update",
     lambda i: i["securityAndAnalysis"]["secretScanningPushProtection"].update(status="disabled")),
    ("tbcoin-engine-ml", "description", "update", lambda i: i.update(description=HOSTILE)),
    ("tbcoin-engine-ml", "vulnerabilityAlerts", "add",
     lambda i: i.update(vulnerabilityAlerts=False)),
    ("tbcoin-engine-ml-labels", "labels[0].description", "update",
     lambda i: i["labels"][0].update(description="Deps")),
    ("tbcoin-prod-deployment-inference-stable", "spec.replicas", "add",
     lambda i: i["spec"].update(replicas=7)),
    ("tbcoin-prod-deployment-inference-canary", "spec.replicas", "update",
     lambda i: i["spec"].update(replicas=0)),
    ("tbcoin-prod-deployment-inference-stable", "spec.template.spec.containers[0].image", "update",
     lambda i: i["spec"]["template"]["spec"]["containers"][0].update(
         image="ghcr.io/tbcoin/tbcoin-engine-ml:hotfix")),
    ("namespace-tbcoin-prod", 'metadata.labels["pod-security.kubernetes.io/enforce"]', "update",
     lambda i: i["metadata"]["labels"].update(
         {"pod-security.kubernetes.io/enforce": "privileged"})),
    ("namespace-tbcoin-prod", 'metadata.labels["kubernetes.io/metadata.name"]', "add",
     lambda i: i["metadata"]["labels"].update({"kubernetes.io/metadata.name": "tbcoin-prod"})),
    ("monitoring-secret-grafana-admin", "stringData", "update",
     lambda i: i.update(stringData="[secret]", data={"admin-password": "[secret]"})),
    ("tbcoin-prod-networkpolicy-default-deny", None, "delete", None),
]  # fmt: skip
SAME = ["tbcoin-engine-ml-workflow-permissions", "tbcoin-prod-service-api"]
PENDING = [
    ("tbcoin-prod-resourcequota-compute", "spec.hard.pods",
     lambda i: i["spec"]["hard"].update(pods="60")),
]  # fmt: skip


def _state(
    resource: dict[str, Any], inputs: dict[str, Any], delete: bool = False
) -> dict[str, Any]:
    state = {
        "type": resource["type"], "urn": resource["urn"], "custom": True,
        "id": resource["name"], "parent": resource["options"].get("parent", ""),
        "inputs": inputs, "outputs": inputs,
        "provider": resource["options"].get("provider", ""),
    }  # fmt: skip
    if resource["options"].get("protect"):
        state["protect"] = True
    if delete:
        state["delete"] = False
    return state


def _event(kind: str, op: str, resource: dict[str, Any], old: Any, new: Any, diff: Any) -> str:
    meta = {
        "op": op, "urn": resource["urn"], "type": resource["type"], "old": old, "new": new,
        "detailedDiff": diff, "provider": resource["options"].get("provider", ""),
    }  # fmt: skip
    return json.dumps({"sequence": 0, "timestamp": 0, kind: {"metadata": meta, "planning": True}})


def construct(resources: list[dict[str, Any]]) -> tuple[str, str]:
    by_name = {r["name"]: r for r in resources if r["custom"]}
    refresh = [json.dumps({"sequence": 0, "timestamp": 0, "preludeEvent": {"config": {}}})]
    changed: dict[str, dict[str, Any]] = {}
    diffs: dict[str, dict[str, Any]] = {}
    deleted = []
    for name, path, kind, mutate in DRIFTS:
        if path is None:
            deleted.append(name)
            continue
        live = changed.setdefault(name, copy.deepcopy(by_name[name]["inputs"]))
        mutate(live)
        diffs.setdefault(name, {})[path] = {"diffKind": kind, "inputDiff": True}
    counts = {"same": len(SAME), "update": len(changed), "delete": len(deleted)}
    for name in [*SAME, *changed, *deleted]:
        resource = by_name[name]
        old = _state(resource, resource["inputs"])
        refresh.append(_event("resourcePreEvent", "refresh", resource, old, old, None))
        if name in deleted:
            refresh.append(_event("resOutputsEvent", "delete", resource, old, None, None))
        elif name in changed:
            new = _state(resource, changed[name])
            refresh.append(_event("resOutputsEvent", "update", resource, old, new, diffs[name]))
        else:
            refresh.append(_event("resOutputsEvent", "same", resource, old, old, None))
    refresh.append(json.dumps({"sequence": 0, "timestamp": 0, "summaryEvent": {
        "maybeCorrupt": False, "durationSeconds": 0, "resourceChanges": counts,
        "policyPacks": {}, "isPreview": True, "result": "succeeded"}}))  # fmt: skip
    preview = [json.dumps({"sequence": 0, "timestamp": 0, "preludeEvent": {"config": {}}})]
    for name, path, mutate in PENDING:
        resource = by_name[name]
        old = _state(resource, resource["inputs"])
        planned = copy.deepcopy(resource["inputs"])
        mutate(planned)
        new = _state(resource, planned)
        diff = {path: {"diffKind": "update", "inputDiff": True}}
        preview.append(_event("resourcePreEvent", "update", resource, old, new, diff))
        preview.append(_event("resOutputsEvent", "update", resource, old, new, diff))
    preview.append(json.dumps({"sequence": 0, "timestamp": 0, "summaryEvent": {
        "maybeCorrupt": False, "durationSeconds": 0, "resourceChanges": {"update": len(PENDING)},
        "policyPacks": {}, "isPreview": True, "result": "succeeded"}}))  # fmt: skip
    return "\n".join(refresh) + "\n", "\n".join(preview) + "\n"


def program_view(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The synth's entries for the resources used here and the autoscalers: what --resources
    reads, small enough to keep beside the fixtures."""
    used = {name for name, *_ in DRIFTS} | set(SAME) | {name for name, *_ in PENDING}
    return [
        r for r in resources
        if r["name"] in used or r["type"] == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
    ]  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] != ["--record"] or len(sys.argv) != 3:
        sys.exit("usage: python -m tests.engine_outputs.construct --record RESOURCES_JSON")
    synth = json.loads(Path(sys.argv[2]).read_text())
    refresh, preview = construct(synth)
    (HERE / "refresh-preview-only-prod.constructed.jsonl").write_text(refresh)
    (HERE / "preview-prod.constructed.jsonl").write_text(preview)
    view = program_view(synth)
    (HERE / "resources-prod.constructed.json").write_text(json.dumps(view, indent=1) + "\n")
