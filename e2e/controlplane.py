"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and KWOK (simulated nodes, pods that become Ready without a kubelet).

Everything lives in one private temporary folder: keys and certificates made for the run, the
kubeconfig, etcd's data, each process's log. Ports are chosen free; every process runs in its own
process group and is stopped when the `with` block ends, by an error or by Ctrl-C as well.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from e2e import pki as pki_module
from e2e.errors import HarnessError
from e2e.tools import BIN, KUBE_VERSION, TOOLS

# The contexts the stacks name (Pulumi.<stack>.yaml kubernetes.context), all on this one cluster.
CONTEXTS = ("tbcoin-staging", "tbcoin-prod", "e2e")
KWOK_STAGES = TOOLS / "kwok-stages.yaml"
NODE_NAME = "kwok-node-0"
SERVICE_RANGE = "10.0.0.0/24"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    argv: list[str]

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(line.strip()[:300] for line in text[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class ControlPlane:
    folder: Path
    processes: list[Process] = field(default_factory=list)
    etcd_port: int = 0
    api_port: int = 0

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> Process:
        # A bare name is one of the binaries built into .tools/bin; a path is taken as given.
        binary = BIN / argv[0]
        if not binary.is_file():
            raise HarnessError(f"{binary} is missing: run `make e2e-tools` (or `make e2e`)")
        log = self.folder / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [str(binary), *argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=os.environ | dict(env or {}),
                start_new_session=True,
            )
        process = Process(name, popen, log, list(argv))
        self.processes.append(process)
        return process

    def process(self, name: str) -> Process:
        return next(p for p in reversed(self.processes) if p.name == name)

    def start_again(self, name: str) -> Process:
        """Start a stopped process again with the same arguments (fault tests)."""
        old = self.process(name)
        self.processes.remove(old)
        return self.start(name, old.argv)

    def stop(self) -> None:
        # Reverse order: the API server's clients first, etcd last.
        for process in reversed(self.processes):
            process.stop()

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.folder / "pki" / "ca.crt"))
        context.load_cert_chain(
            str(self.folder / "pki" / "admin.crt"), str(self.folder / "pki" / "admin.key")
        )
        return context

    def get(self, path: str, timeout: float = 5.0) -> bytes:
        with urllib.request.urlopen(self.server + path, context=self._ssl(), timeout=timeout) as r:
            return bytes(r.read())

    def wait_until(self, what: str, check: object, process: Process, deadline: float) -> None:
        end = time.monotonic() + deadline
        last = ""
        while time.monotonic() < end:
            if process.popen.poll() is not None:
                raise HarnessError(
                    f"{process.name} exited with {process.popen.returncode} while waiting for "
                    f"{what}: {process.tail()}"
                )
            try:
                if callable(check) and check():
                    return
            except OSError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise HarnessError(
            f"timed out after {deadline:.0f} s waiting for {what} ({last or 'no answer'})"
        )


def _kubeconfig(pki: pki_module.Pki, server: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "e2e", "cluster": {"server": server, "certificate-authority": str(pki.ca)}}
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate": str(pki.admin_cert),
                    "client-key": str(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {"name": name, "context": {"cluster": "e2e", "user": "admin"}} for name in CONTEXTS
        ],
        "current-context": "e2e",
    }


def _node() -> dict[str, object]:
    # Every resource a workload may request (the stacks request ephemeral-storage): a quantity the
    # node does not advertise leaves the pod unschedulable, and `up` waits on it until its timeout.
    capacity = {"cpu": "32", "memory": "128Gi", "ephemeral-storage": "500Gi", "pods": "250"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            # KWOK manages every node (--manage-all-nodes); the annotation says it is simulated.
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
            "labels": {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


@contextlib.contextmanager
def running(folder: Path) -> Iterator[ControlPlane]:
    """Start the control plane in `folder` (which must be private and empty) and stop it after."""
    plane = ControlPlane(folder)
    try:
        _start(plane)
        yield plane
    finally:
        plane.stop()


def _start(plane: ControlPlane) -> None:
    folder = plane.folder
    pki = pki_module.generate(folder / "pki")
    plane.etcd_port, peer_port, plane.api_port = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{plane.etcd_port}"
    peer_url = f"http://127.0.0.1:{peer_port}"
    etcd = plane.start(
        "etcd",
        [
            "etcd",
            "--name=e2e",
            f"--data-dir={folder / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=e2e={peer_url}",
            # A throw-away store: durability costs seconds per update and buys nothing here.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
    )
    plane.wait_until("etcd", lambda: _http_ok(f"{etcd_url}/health"), etcd, 30)

    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(_kubeconfig(pki, plane.server), sort_keys=False))
    kubeconfig.chmod(0o600)
    apiserver = plane.start(
        "kube-apiserver",
        [
            "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={plane.api_port}",
            f"--tls-cert-file={pki.server_cert}",
            f"--tls-private-key-file={pki.server_key}",
            f"--client-ca-file={pki.ca}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            "--authorization-mode=RBAC",
            # Pod Security admission stays on (the default), so namespace labels are enforced.
            "--allow-privileged=true",
            f"--cert-dir={folder / 'apiserver'}",
            "--profiling=false",
            # The `kubernetes` Service cannot point at loopback; nothing here needs it to.
            "--endpoint-reconciler-type=none",
        ],
    )
    plane.wait_until(
        "the API server's /readyz", lambda: plane.get("/readyz") == b"ok", apiserver, 90
    )
    common = [f"--kubeconfig={kubeconfig}", "--leader-elect=false"]
    plane.start(
        "kube-controller-manager",
        [
            "kube-controller-manager",
            *common,
            f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca}",
            "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
        ],
    )
    plane.start(
        "kube-scheduler",
        ["kube-scheduler", *common, "--bind-address=127.0.0.1", f"--secure-port={free_port()}"],
    )
    if not KWOK_STAGES.is_file():
        raise HarnessError(f"{KWOK_STAGES} is missing: run `make e2e-tools` (or `make e2e`)")
    kwok = plane.start(
        "kwok",
        [
            "kwok",
            f"--kubeconfig={kubeconfig}",
            f"--config={KWOK_STAGES}",
            "--manage-all-nodes=true",
            f"--server-address=127.0.0.1:{free_port()}",
        ],
    )
    _create_node(plane)
    from kubernetes import config, utils

    storage = yaml.safe_load((TOOLS / "kwok-storage-class.yaml").read_text())
    utils.create_from_dict(config.new_client_from_config(str(kubeconfig)), storage)
    plane.wait_until("the KWOK node to be Ready", lambda: _node_ready(plane), kwok, 60)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as r:
        return bool(r.status == 200)


def _client(plane: ControlPlane) -> object:
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(str(plane.kubeconfig)))


def _create_node(plane: ControlPlane) -> None:
    core = _client(plane)
    core.create_node(_node())  # type: ignore[attr-defined]


def _node_ready(plane: ControlPlane) -> bool:
    node = _client(plane).read_node(NODE_NAME)  # type: ignore[attr-defined]
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])


def version_info(plane: ControlPlane) -> str:
    import json

    return str(json.loads(plane.get("/version"))["gitVersion"] or KUBE_VERSION)
