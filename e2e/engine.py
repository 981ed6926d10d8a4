"""The real Pulumi CLI, run as a user runs it, on a local file backend in the run's folder.

`pulumi-language-python` is not served as a Go module, so the program is served the way the
Automation API serves an inline program: the SDK's own language server in this process, which the
CLI reaches through `--client` (supported by the CLI since 3.181). Everything else is the CLI's:
plan, diff, policy pack (`--policy-pack policies/serve`), state, secrets (passphrase provider).
The provider is registered from .tools/bin under the version the Python SDK asks for, and
automatic plugin acquisition is off: a missing plugin is an error, never a download.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from e2e.errors import HarnessError
from e2e.tools import BIN, ROOT

PACK = ROOT / "policies" / "serve"


def sdk_provider_version() -> str:
    """The provider version the Python SDK registers its resources with."""
    return importlib.metadata.version("pulumi-kubernetes")


@dataclass
class Result:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    event_log: Path | None
    pid: int = 0

    def events(self) -> list[dict[str, Any]]:
        if self.event_log is None or not self.event_log.is_file():
            return []
        return [json.loads(line) for line in self.event_log.read_text().splitlines() if line]

    def summary(self) -> dict[str, int]:
        for event in self.events():
            if "summaryEvent" in event:
                return dict(event["summaryEvent"].get("resourceChanges") or {})
        return {}

    def diagnostics(self, severity: str = "error") -> list[str]:
        return [
            str(e["diagnosticEvent"].get("message", "")).strip()
            for e in self.events()
            if e.get("diagnosticEvent", {}).get("severity") == severity
        ]

    def policy_violations(self) -> list[dict[str, Any]]:
        return [e["policyEvent"] for e in self.events() if "policyEvent" in e]

    def policy_messages(self) -> list[str]:
        return [str(v.get("message", "")).strip() for v in self.policy_violations()]


@contextlib.contextmanager
def serve(program: Callable[[], None]) -> Iterator[str]:
    """Serve `program` as the CLI's language runtime from a process of its own
    (e2e/program_host.py); yields the `--client` address."""
    host = subprocess.Popen(
        [sys.executable, "-m", "e2e.program_host", f"{program.__module__}:{program.__name__}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert host.stdout is not None
        port = host.stdout.readline().strip()
        if not port.isdigit():
            raise HarnessError(f"the program host did not start (exit {host.poll()})")
        yield f"127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(host.pid, signal.SIGKILL)
        host.wait()


def descendants(root: int, needle: str = "") -> list[int]:
    """Processes below `root` whose command line holds `needle` (the CLI starts its plugins)."""
    parents: dict[int, int] = {}
    lines: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
            lines[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
    found = []
    for pid, line in lines.items():
        ancestor = parents.get(pid)
        while ancestor and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor == root and needle in line:
            found.append(pid)
    return found


def stop_group(proc: subprocess.Popen[str], grace: float = 20.0) -> None:
    """SIGINT first (the CLI cancels cleanly and stops its plugins), then SIGKILL the group and
    every plugin below the CLI (the CLI starts plugins in process groups of their own)."""
    below = descendants(proc.pid)
    try:
        _stop_group(proc, grace)
    finally:
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _stop_group(proc: subprocess.Popen[str], grace: float) -> None:
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGINT:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        return


class Engine:
    """One project folder, one state folder and one PULUMI_HOME, all inside `folder`."""

    def __init__(self, folder: Path, kubeconfig: Path) -> None:
        self.folder = folder
        self.project = folder / "project"
        self.home = folder / "pulumi-home"
        self.logs = folder / "engine-logs"
        for path in (self.project, self.home, self.logs, folder / "state"):
            path.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{folder / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(24),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # Only the registered plugins count, never a binary that happens to be on PATH.
            "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "KUBECONFIG": str(kubeconfig),
            "PULUMI_POLICY_PYTHON": sys.executable,
            "NO_COLOR": "1",
            # `--event-log` is one of the debug commands' flags (the Automation API sets it too).
            "PULUMI_DEBUG_COMMANDS": "true",
        }

    @property
    def passphrase(self) -> str:
        return self.env["PULUMI_CONFIG_PASSPHRASE"]

    def run(
        self,
        *args: str,
        program: Callable[[], None] | None = None,
        timeout: float = 900,
        event_log: bool = True,
        env: Mapping[str, str] | None = None,
        during: Callable[[subprocess.Popen[str], Path | None], None] | None = None,
    ) -> Result:
        """Run the CLI; `during(process, event_log)` runs in a thread meanwhile (fault tests)."""
        binary = BIN / "pulumi"
        if not binary.is_file():
            raise HarnessError(f"{binary} is missing: run `make e2e-tools` (or `make e2e`)")
        self._count += 1
        log = self.logs / f"{self._count:02d}-{args[0]}.jsonl" if event_log else None
        command = [str(binary), *args, "--non-interactive"]
        if log is not None:
            command += ["--event-log", str(log)]
        with contextlib.ExitStack() as stack:
            if program is not None:
                address = stack.enter_context(serve(program))
                command += ["--client", address, "--exec-kind", "auto.inline"]
            started = time.monotonic()
            # A process group of its own: the CLI's plugins (provider, pack) go with it.
            proc = subprocess.Popen(
                command,
                cwd=self.project,
                env=self.env | dict(env or {}),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
            injector = None
            if during is not None:
                injector = threading.Thread(target=during, args=(proc, log), daemon=True)
                injector.start()
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
                if injector is not None:
                    injector.join(180)
            except subprocess.TimeoutExpired as exc:
                stop_group(proc)
                raise HarnessError(
                    f"`pulumi {' '.join(args)}` did not finish in {timeout:.0f} s"
                ) from exc
            except BaseException:
                stop_group(proc)
                raise
        result = Result(
            command, proc.returncode, stdout, stderr, time.monotonic() - started, log, proc.pid
        )
        (self.logs / f"{self._count:02d}-{args[0]}.out").write_text(
            stdout + "\n--- stderr ---\n" + stderr
        )
        return result

    def register_provider(self) -> str:
        """Install the locally built provider under the version the SDK asks for."""
        version = sdk_provider_version()
        binary = BIN / "pulumi-resource-kubernetes"
        done = self.run(
            "plugin",
            "install",
            "resource",
            "kubernetes",
            version,
            "--file",
            str(binary),
            event_log=False,
        )
        if done.returncode != 0:
            raise HarnessError(
                f"registering {binary} as kubernetes {version}: {done.stderr.strip()}"
            )
        return version

    def plugins(self) -> list[str]:
        folder = self.home / "plugins"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def init_stack(self, stack: str, settings: Mapping[str, Any]) -> None:
        """Write the project's Pulumi.yaml and the stack's settings into the private project
        folder (the engine writes its encryption salt there, never into the repository)."""
        shutil.copy(ROOT / "Pulumi.yaml", self.project / "Pulumi.yaml")
        # Chart archives are named from the project root (infra/config/charts.py), where the
        # engine runs its plugins; the copy sees the repository's vendor/ folder there.
        # `main: infra/` must exist for the CLI to accept the project.
        for name in ("vendor", "infra"):
            (self.project / name).symlink_to(ROOT / name)
        (self.project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(dict(settings)))
        done = self.run("stack", "init", stack, "--secrets-provider", "passphrase", event_log=False)
        if done.returncode != 0:
            raise HarnessError(f"pulumi stack init {stack}: {done.stderr.strip()}")

    def stack_export(self) -> dict[str, Any]:
        done = self.run("stack", "export", event_log=False)
        if done.returncode != 0:
            raise HarnessError(f"pulumi stack export: {done.stderr.strip()}")
        return dict(json.loads(done.stdout))


def versions() -> dict[str, str]:
    """What every binary says of itself (for the report)."""
    out: dict[str, str] = {}
    probes = {
        "pulumi": ["version"],
        "etcd": ["--version"],
        "kube-apiserver": ["--version"],
        "kube-controller-manager": ["--version"],
        "kube-scheduler": ["--version"],
        "kwok": ["--version"],
    }
    for name, args in probes.items():
        try:
            done = subprocess.run(
                [str(BIN / name), *args], capture_output=True, text=True, timeout=30
            )
        except OSError:
            continue
        out[name] = (
            (done.stdout or done.stderr).strip().splitlines()[0]
            if done.stdout or done.stderr
            else ""
        )
    out["pulumi-resource-kubernetes"] = sdk_provider_version()
    for package in ("pulumi", "pulumi-kubernetes", "pulumi-policy"):
        out[f"python:{package}"] = importlib.metadata.version(package)
    return out
