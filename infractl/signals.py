"""SIGINT, SIGTERM and SIGHUP end a command the same way: as an exception, so every `finally`
runs (the policy pack's process group is stopped and reaped), then one line and exit 128 + N.

Python's defaults differ: SIGTERM and SIGHUP end the process on the spot, leaving the pack (in
its own session, so the terminal's signals never reach it) running and listening; SIGINT
raises KeyboardInterrupt, which prints a traceback.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way up can swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name}"


# Signals that arrived inside `stops_held()`, or None outside it (handlers run in the main thread).
_held: list[int] | None = None


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    # One stop is enough: further signals must not interrupt the cleanup this one starts.
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)
    if _held is not None:
        _held.append(signum)
        return
    raise Stopped(signum)


@contextmanager
def stops_held() -> Iterator[None]:
    """Hold a stop signal until the block is done, then raise it: for steps that must not be cut
    in half, such as starting a child process and taking note of it."""
    global _held
    _held = []
    try:
        yield
    finally:
        held, _held = _held, None
    if held:
        raise Stopped(held[0])


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Within the block, a stop signal raises `Stopped` in the main thread. A signal the
    process was started ignoring (`nohup`) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {each: signal.getsignal(each) for each in STOP_SIGNALS}
    for each, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(each, _raise_stopped)
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
