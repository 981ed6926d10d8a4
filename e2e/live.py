"""The API server's side: every object the offline synth declared, as it exists after `up`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PART_OF = "app.kubernetes.io/part-of=tbcoin-platform"


def _dynamic(kubeconfig: Path) -> Any:
    from kubernetes import config, dynamic

    return dynamic.DynamicClient(config.new_client_from_config(str(kubeconfig)))


def subset_diff(declared: Any, live: Any, path: str = "") -> list[str]:
    """Where `declared` is not contained in `live`: the server may add fields, not change ours."""
    if isinstance(declared, dict) and isinstance(live, dict):
        out: list[str] = []
        for key, value in declared.items():
            if key not in live:
                out.append(f"{path}.{key}: declared {value!r}, absent live")
            else:
                out += subset_diff(value, live[key], f"{path}.{key}")
        return out
    if isinstance(declared, list) and isinstance(live, list):
        if len(declared) != len(live):
            return [f"{path}: declared {len(declared)} items, live {len(live)}"]
        out = []
        for index, (d, v) in enumerate(zip(declared, live, strict=True)):
            out += subset_diff(d, v, f"{path}[{index}]")
        return out
    if _same_scalar(declared, live):
        return []
    return [f"{path}: declared {declared!r}, live {live!r}"]


def _same_scalar(declared: Any, live: Any) -> bool:
    # The API server normalises quantities ("1000m" -> "1") and ints written as strings.
    return declared == live or str(declared) == str(live)


def manifests(folder: Path) -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted(folder.rglob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if isinstance(doc, dict) and doc.get("kind")
    ]


def compare(kubeconfig: Path, declared_folder: Path) -> list[str]:
    """One line per declared object missing or differing in kind, name, namespace, labels, spec
    (Secrets and ConfigMaps: their keys)."""
    client = _dynamic(kubeconfig)
    problems: list[str] = []
    for doc in manifests(declared_folder):
        meta = doc["metadata"]
        where = f"{doc['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")
        api = client.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        try:
            obj = api.get(name=meta["name"], namespace=meta.get("namespace")).to_dict()
        except Exception as exc:  # the client's NotFoundError and friends
            problems.append(f"{where}: not found live ({type(exc).__name__})")
            continue
        diffs = subset_diff(meta.get("labels") or {}, obj["metadata"].get("labels") or {}, "labels")
        for section in ("spec", "rules", "roleRef", "subjects", "webhooks"):
            if section in doc:
                diffs += subset_diff(doc[section], obj.get(section), section)
        for section in ("data", "stringData"):
            # The synth writes a secret's data as one `redacted` entry: nothing to compare.
            if section in doc and set(doc[section]) != {"redacted"}:
                live_keys = set((obj.get("data") or {}) | (obj.get("stringData") or {}))
                missing = set(doc[section]) - live_keys
                diffs += [f"{section}: key {key!r} absent live" for key in sorted(missing)]
        problems += [f"{where}: {d}" for d in diffs]
    return problems


def ours(kubeconfig: Path) -> list[str]:
    """Every object left in the API server that carries the project's part-of label."""
    client = _dynamic(kubeconfig)
    left: list[str] = []
    for resource in client.resources.search():
        if "list" not in (resource.verbs or []) or "/" in resource.name:
            continue
        try:
            items = resource.get(label_selector=PART_OF).items
        except Exception:  # kinds that refuse a cluster-wide list
            continue
        for item in items:
            ns = item.metadata.namespace
            left.append(f"{resource.kind} {ns + '/' if ns else ''}{item.metadata.name}")
    return sorted(set(left))


def provide(kubeconfig: Path, files: tuple[Path, ...]) -> list[str]:
    """Create the objects of `files` (what the cluster of a stack comes with)."""
    from kubernetes import config, utils

    api = config.new_client_from_config(str(kubeconfig))
    made: list[str] = []
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
        for doc in docs:
            utils.create_from_dict(api, doc)
            made.append(f"{doc['kind']} {doc['metadata']['name']}")
    return made


def named(kubeconfig: Path, namespace: str) -> list[str]:
    """The namespace `namespace` if it exists (objects of the test-only program carry no label)."""
    from kubernetes import client, config

    core: Any = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    return [
        f"Namespace {n.metadata.name}"
        for n in core.list_namespace().items
        if n.metadata.name == namespace
    ]


def drift(kubeconfig: Path, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Change live objects as a person with kubectl or a controller would; returns each change
    with the resource's logical name and whether `infractl drift` must count it as expected."""
    from kubernetes import client, config

    api = config.new_client_from_config(str(kubeconfig))
    # The client's models type every field Optional; these objects were just read back.
    core: Any = client.CoreV1Api(api)
    apps: Any = client.AppsV1Api(api)
    net: Any = client.NetworkingV1Api(api)
    custom: Any = client.CustomObjectsApi(api)
    scaling: Any = client.AutoscalingV2Api(api)
    made: list[dict[str, Any]] = []
    envs = settings["tbcoin-platform:environments"]
    ns = sorted(env["namespace"] for env in envs.values())[0]

    core.patch_namespace(
        ns, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    )
    made.append(
        {"name": f"namespace-{ns}", "what": "Pod Security enforce label", "expected": False}
    )

    net.delete_namespaced_network_policy("default-deny", ns)
    made.append({"name": f"{ns}-networkpolicy-default-deny", "what": "deleted", "expected": False})

    autoscaled = {
        h.spec.scale_target_ref.name
        for h in scaling.list_namespaced_horizontal_pod_autoscaler(ns).items
    }
    for deployment in apps.list_namespaced_deployment(ns).items:
        name = deployment.metadata.name
        apps.patch_namespaced_deployment_scale(
            name, ns, {"spec": {"replicas": (deployment.spec.replicas or 1) + 1}}
        )
        made.append(
            {
                "name": f"{ns}-deployment-{name}",
                "what": "replicas scaled by hand",
                "expected": name in autoscaled,
            }
        )
        break
    rollouts = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "rollouts")
    for rollout in rollouts["items"][:1]:
        name = rollout["metadata"]["name"]
        replicas = int(rollout["spec"].get("replicas") or 1) + 1
        custom.patch_namespaced_custom_object(
            "argoproj.io", "v1alpha1", ns, "rollouts", name, {"spec": {"replicas": replicas}}
        )
        made.append(
            {
                "name": f"{ns}-rollout-{name}",
                "what": "replicas scaled by hand",
                "expected": name in autoscaled,
            }
        )

    routes = custom.list_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", ns, "httproutes"
    )
    for route in routes["items"]:
        rules = route["spec"].get("rules") or []
        if rules and len(rules[0].get("backendRefs") or []) == 2:
            # What the Gateway API plugin writes during a canary step.
            for ref, weight in zip(rules[0]["backendRefs"], (90, 10), strict=True):
                ref["weight"] = weight
            custom.patch_namespaced_custom_object(
                "gateway.networking.k8s.io",
                "v1",
                ns,
                "httproutes",
                route["metadata"]["name"],
                {"spec": {"rules": rules}},
            )
            made.append(
                {
                    "name": f"{ns}-httproute-{route['metadata']['name']}",
                    "what": "canary weights (the Rollouts controller's)",
                    "expected": True,
                }
            )
            break
    return made
