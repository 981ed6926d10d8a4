"""A tiny stand-in for the Kubernetes API server on loopback: get and merge-patch of Argo
Rollouts (object and status subresource), so the official `kubernetes` client's real requests
can be tested without a cluster. It checks the bearer token and the patch content type the way
an API server would, and records every request."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.loopback import loopback_server

ROLLOUT_PATH = re.compile(
    r"/apis/argoproj\.io/v1alpha1/namespaces/([^/]+)/rollouts/([^/]+)(/status)?"
)
TOKEN = "fake-token-do-not-print"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class Request:
    method: str
    path: str
    content_type: str
    body: Any


@dataclass
class FakeKubernetes:
    rollouts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    status_subresource: bool = True
    server: str = ""

    def handle(self, request: Request, token: str) -> tuple[int, Any]:
        self.requests.append(request)
        if token != f"Bearer {TOKEN}":
            return 401, _status(401, "Unauthorized")
        match = ROLLOUT_PATH.fullmatch(request.path)
        if not match:
            return 404, _status(404, "NotFound")
        namespace, name, status = match.groups()
        rollout = self.rollouts.get((namespace, name))
        if rollout is None or (status and not self.status_subresource):
            return 404, _status(404, "NotFound")
        if request.method == "GET":
            return 200, rollout
        if request.content_type != "application/merge-patch+json":
            return 415, _status(415, "UnsupportedMediaType")
        patched = merge_patch(rollout, request.body)
        # Like the real server: a status patch changes only status, an object patch (with a
        # status subresource) everything but status.
        if self.status_subresource:
            kept = "spec" if status else "status"
            if kept in rollout:
                patched[kept] = rollout[kept]
        self.rollouts[(namespace, name)] = patched
        return 200, patched

    def kubeconfig(self, folder: Path, context: str) -> Path:
        path = folder / "kubeconfig"
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": self.server}}],
                    "users": [{"name": "fake", "user": {"token": TOKEN}}],
                    "contexts": [{"name": context, "context": {"cluster": "fake", "user": "fake"}}],
                    "current-context": context,
                }
            )
        )
        return path


def _status(code: int, reason: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
            "code": code}  # fmt: skip


@contextmanager
def fake_kubernetes() -> Iterator[FakeKubernetes]:
    state = FakeKubernetes()

    def handle(method: str, path: str, headers: Any, body: Any) -> tuple[int, Any]:
        content_type = (headers.get("Content-Type") or "").split(";")[0]
        request = Request(method, path.split("?")[0], content_type, body)
        return state.handle(request, headers.get("Authorization") or "")

    with loopback_server(handle) as url:
        state.server = url
        yield state


def exec_kubeconfig(folder: Path, command: str) -> Path:
    """A kubeconfig whose user's credentials come from an exec plugin running `command` (a
    shell script), for a cluster nothing listens on."""
    plugin = folder / "plugin.sh"
    plugin.write_text(f"#!/bin/sh\n{command}\n")
    plugin.chmod(0o755)
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: tbcoin-prod\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: tbcoin-prod, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
        f"command: '{plugin}'}}}}}}]\n"
    )
    return kubeconfig
