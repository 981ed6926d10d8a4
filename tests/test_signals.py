"""A stop signal to `infractl check` stops the policy pack's process group and ends the command in
one line, without a traceback (issue 18, point 8). Real signals to a real `infractl check`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from infractl.policy import analyzer
from infractl.signals import STOP_SIGNALS, Stopped, stop_signals_raise, stops_held
from tests.conftest import REPO

T = TypeVar("T")


def _wait_for(what: str, probe: Callable[[], T | None], timeout: float = 120.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _pack_of(parent: int) -> int | None:
    """The pid of the policy pack `parent` started, once it has exec'd."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"pulumi.policy" in cmdline:
            return int(entry.name)
    return None


def _listening_port(pid: int) -> int | None:
    """The TCP port `pid` listens on, from /proc (the pack prints it only to its parent)."""
    try:
        inodes = {
            os.readlink(fd)[len("socket:[") : -1]
            for fd in Path(f"/proc/{pid}/fd").iterdir()
            if os.readlink(fd).startswith("socket:[")
        }
    except OSError:
        return None
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                return int(fields[1].rsplit(":", 1)[1], 16)
    return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def _default_stop_signals() -> None:
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=str)
def test_a_stop_signal_stops_the_pack_and_exits_cleanly(stop: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "infractl.cli", "check", "--stack", "staging"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a shell: an ignored signal survives exec (that is how `nohup` works), so a
        # disposition left behind in this test worker must not decide what infractl does.
        preexec_fn=_default_stop_signals,
    )
    pack = None
    try:
        pack = _wait_for("the policy pack to start", lambda: _pack_of(proc.pid))
        # Freeze infractl so the signal lands while the pack is up, however fast the check is.
        os.kill(proc.pid, signal.SIGSTOP)
        port = _wait_for("the pack to listen", lambda: _listening_port(pack))
        os.kill(proc.pid, stop)
        os.kill(proc.pid, signal.SIGCONT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 128 + stop, stderr
        assert stderr.strip().splitlines()[-1] == f"infractl: stopped by {stop.name}"
        assert "Traceback" not in stderr
        assert not _alive(pack)
        assert _refused(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pack is not None and _alive(pack):
            os.killpg(pack, signal.SIGKILL)  # the pack leads its own process group


@pytest.fixture
def stop_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set from the main thread")
    with stop_signals_raise():
        yield


def test_a_signal_inside_a_held_step_is_raised_once_the_step_is_done(stop_signals: None) -> None:
    steps = []
    with pytest.raises(Stopped) as caught, stops_held():
        os.kill(os.getpid(), signal.SIGTERM)
        steps.append("finished")
    assert steps == ["finished"]
    assert caught.value.signum == signal.SIGTERM


def test_a_signal_while_the_pack_starts_still_stops_it(
    stop_signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The signal lands inside Popen, before running_pack has the pack's pid in hand.
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen_then_signal(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(real_popen(*args, **kwargs))
        os.kill(os.getpid(), signal.SIGTERM)
        return started[-1]

    monkeypatch.setattr(analyzer.subprocess, "Popen", popen_then_signal)
    pack = analyzer.running_pack(
        REPO / "policies", project="tbcoin-platform", stack="staging", config={}
    )
    try:
        with pytest.raises(Stopped), pack:
            pytest.fail("the block must not run")
        assert started and started[0].poll() is not None  # stopped and reaped
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


HALF_BUILT = """
import sys
from infractl import cli
from infractl.signals import Stopped

class HalfBuilt:  # like an event loop whose constructor a signal cut short
    def __del__(self):
        raise AttributeError("no attribute '_ssock'")

def check(args):
    half = HalfBuilt()
    raise Stopped(15)

import dataclasses
cli.COMMANDS["check"] = dataclasses.replace(cli.COMMANDS["check"], run=check)
sys.argv = ["infractl", "check", "--stack", "staging"]
cli.run()
"""


def test_a_stop_that_cuts_a_constructor_short_still_ends_in_one_line() -> None:
    """Seen under load: SIGTERM inside asyncio's loop constructor left a finaliser that failed
    after infractl's line, so the last line was Python's 'Exception ignored' report."""
    run = subprocess.run(
        [sys.executable, "-c", HALF_BUILT], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 128 + 15
    assert run.stderr.strip().splitlines() == ["infractl: stopped by SIGTERM"]
