"""Program workers forked from a process that holds the third-party modules and nothing else.

Importing the SDKs is most of a cold plan, and a program change must not leave a stale module
behind. So the program never runs in the process that imported the SDKs: that process (the
zygote, started once) only imports third-party modules and forks a worker on request; the worker
imports the project's modules itself and runs the program as often as the config changes. A
program change kills the worker and forks a fresh one: every project module is imported anew,
from the sources as they are now.

The zygote learns what to preload from its workers: after its first run, a worker reports the
modules it has loaded from outside the project, and the zygote imports them for the next one.
The zygote and its workers form a process group of their own, stopped as a whole. A zygote
found gone when a worker is needed is replaced, as a worker is.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType

from infractl.watch.modules import project_modules

FORK, PRELOAD = b"fork", b"preload"
# The zygote's own modules: the packages leading to this one (each an empty `__init__`).
ZYGOTE_OWN = ("infractl", "infractl.watch", "infractl.watch.forks", "infractl.watch.modules")


def zygote(fd: int, project: Path) -> None:
    """The zygote's loop: preload modules, fork workers; return when the parent goes away."""
    control = socket.socket(fileno=fd)
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_DFL)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        while _reap():
            pass
        if not message:
            return
        if message.startswith(PRELOAD):
            for name in message[len(PRELOAD) :].decode().split("\0")[1:]:
                _preload(name)
        elif message == FORK:
            control.send(str(_fork_worker(fds[0], control, project)).encode())


def _preload(name: str) -> None:
    """Load a module the way a program reaches it: the SDKs load submodules lazily on attribute
    access, and importing one by name would bind the module over the attribute it stands
    behind (`pulumi_kubernetes.apiextensions.CustomResource`, a class, would become a module).
    So walk the attributes and import by name only what no attribute stands for."""
    parts = name.split(".")
    try:
        module = importlib.import_module(parts[0])
        for depth in range(2, len(parts) + 1):
            child = getattr(module, parts[depth - 1], None)
            if child is None:
                child = importlib.import_module(".".join(parts[:depth]))
            if not isinstance(child, ModuleType):
                return  # a class or function of that name: what a program uses
            module = child
    except Exception:  # a module that imports only in context: the worker will load it
        return


def _reap() -> bool:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return pid != 0


def _fork_worker(fd: int, control: socket.socket, project: Path) -> int:
    stray = [name for name in project_modules(project) if name not in ZYGOTE_OWN]
    if stray:  # a worker forked now could run a module of older sources: end instead
        sys.exit(f"infractl: the program zygote holds project modules ({', '.join(stray[:5])})")
    sys.stdout.flush()
    sys.stderr.flush()
    # What the zygote holds lives as long as the worker: the worker's collector need not look at
    # it (and leaving it untouched keeps its memory shared with the zygote's).
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        control.close()
        code = 1
        try:
            from infractl.watch.worker import serve

            code = serve(Connection(fd), project)
        finally:
            os._exit(code)
    os.close(fd)
    return pid


@dataclass
class Worker:
    """A forked program worker, as its parent sees it: a pid and a connection."""

    pid: int
    connection: Connection

    def stop(self) -> None:
        self.connection.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class Zygote:
    """The zygote, from the command's side (a context manager: leaving it stops the zygote and
    every worker it forked). A zygote found gone when a worker is needed (killed, or ended) is
    replaced once, as a killed worker is, and told again what to preload."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self._preloads: list[str] = []
        self._start()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Run with the command's own import path, so a worker imports what the command would.
        boot = (
            "import json, sys\n"
            "sys.path[:] = json.loads(sys.argv[1])\n"
            "from infractl.watch.forks import zygote\n"
            "zygote(int(sys.argv[2]), __import__('pathlib').Path(sys.argv[3]))\n"
        )
        command = [sys.executable, "-c", boot, json.dumps(sys.path), str(theirs.fileno())]
        # The command's side only: the zygote imports nothing of the project but this module.
        from infractl.signals import stops_held

        with stops_held():  # a stop signal inside Popen would lose the zygote's pid
            self.process = subprocess.Popen(
                [*command, str(self.project)],
                stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                start_new_session=True,
            )
        theirs.close()
        self._control = ours
        if self._preloads:
            self.preload(self._preloads)

    def _stop(self) -> None:
        from infractl.signals import stops_held

        with stops_held():
            self._control.close()
            # The whole group: workers forked by a killed zygote outlive it in its group (and
            # its pid, not yet waited for, cannot have been reused).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def fork(self) -> Worker:
        worker = self._fork()
        if worker is None:  # the zygote is gone: a new one, once
            self._stop()
            self._start()
            worker = self._fork()
        if worker is None:
            from infractl.errors import InfractlError

            raise InfractlError(f"the program zygote exited (code {self.process.wait()})")
        return worker

    def _fork(self) -> Worker | None:
        mine, its = socket.socketpair()
        try:
            socket.send_fds(self._control, [FORK], [its.fileno()])
            reply = self._control.recv(64)
        except OSError:  # BrokenPipeError, ConnectionResetError: the zygote is gone
            reply = b""
        finally:
            its.close()
        if not reply:
            mine.close()
            return None
        return Worker(int(reply), Connection(mine.detach()))

    def preload(self, names: list[str]) -> None:
        self._preloads = names
        # A zygote gone by now is replaced at the next fork, and told these names then.
        with contextlib.suppress(OSError):
            self._control.send(PRELOAD + "\0".join(["", *names]).encode())

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()
