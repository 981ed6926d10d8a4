"""Start the policy pack as the engine does and talk to it over gRPC.

The engine runs `python -u -m pulumi.policy <engine-address> <pack-dir>` in the pack directory;
the pack starts an Analyzer server on 127.0.0.1 and prints its port as the first line of stdout.
This module does the same, with deadlines everywhere and the process always reaped.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infractl.errors import InfractlError
from infractl.signals import stops_held

# gRPC and Pulumi's protocol modules are imported once the pack's process is started, so their
# import overlaps its start-up.
if TYPE_CHECKING:
    import grpc
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

# No engine runs here; the pack only needs an address-shaped argument.
ENGINE_ADDRESS = "127.0.0.1:0"


class PackError(InfractlError):
    """The policy pack could not be started or did not answer in time."""


@dataclass
class RunningPack:
    """A started pack. Its port is read the first time `stub` is used, so a caller can start the
    pack, do other work (run the program) while it starts, and only then wait for it."""

    process: subprocess.Popen[bytes]
    pack_dir: Path
    timeout: float
    command: list[str]
    port: int = 0
    # Seconds the caller waited for the port (start-up not hidden behind other work).
    waited: float = 0.0
    _channel: grpc.Channel | None = None
    _stub: analyzer_pb2_grpc.AnalyzerStub | None = None

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            started = time.monotonic()
            try:
                self.port = _read_port(self.process, started + self.timeout)
            except PackError as exc:
                _stop(self.process)
                raise PackError(f"{exc}{_stderr_tail(self.process)}") from None
            self.waited = time.monotonic() - started
            import grpc
            from pulumi.runtime.proto import analyzer_pb2_grpc

            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self._stub

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        _stop(self.process)
        _close(self.process)


def _read_port(process: subprocess.Popen[bytes], deadline: float) -> int:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PackError("the policy pack did not announce its port in time")
        if not selector.select(remaining):
            continue
        chunk = os.read(process.stdout.fileno(), 1)
        if not chunk:
            raise PackError(f"the policy pack exited (code {process.wait()}) before it served")
        line += chunk
    try:
        return int(line.strip())
    except ValueError:
        raise PackError(f"the policy pack printed {line!r} instead of its port") from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the pack's whole process group; kill it if it does not go quietly."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _close(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _stderr_tail(process: subprocess.Popen[bytes]) -> str:
    """The last lines the (stopped) pack wrote to stderr, to explain why it failed."""
    if process.stderr is None or process.stderr.closed:
        return ""
    text = process.stderr.read().decode(errors="replace").strip()
    return "\n" + "\n".join(text.splitlines()[-15:]) if text else ""


@contextmanager
def running_pack(
    pack_dir: Path,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    timeout: float = 60.0,
    python: str = sys.executable,
) -> Iterator[RunningPack]:
    env = {
        **os.environ,
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true",
        "PULUMI_ORGANIZATION": "organization",
        "PULUMI_CONFIG": json.dumps(dict(config)),
        "PYTHONUNBUFFERED": "1",
    }
    command = [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(pack_dir)]
    pack = None
    try:  # once started, whatever happens (a stop signal included) stops the pack
        # A stop signal inside Popen would lose the pack's pid: it is raised once pack is set.
        with stops_held():
            process = subprocess.Popen(
                command,
                cwd=pack_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            pack = RunningPack(process, pack_dir, timeout, command)
        import grpc

        try:
            yield pack
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            detail = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            raise PackError(f"the policy pack failed a call ({code}): {detail}") from None
    finally:
        if pack is not None:
            with stops_held():  # a signal arriving now is raised once the pack is stopped
                pack.close()


def analyzer_info(pack: RunningPack) -> analyzer_pb2.AnalyzerInfo:
    from google.protobuf import empty_pb2

    info: analyzer_pb2.AnalyzerInfo = pack.stub.GetAnalyzerInfo(
        empty_pb2.Empty(), timeout=pack.timeout
    )
    return info


def as_dict(message: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    result: dict[str, Any] = json_format.MessageToDict(message)
    return result
