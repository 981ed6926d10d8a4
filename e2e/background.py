"""A step the harness repeats on a thread of its own until the block ends (traffic fed to the
fake tracks, scrape targets that follow the canary's pods)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def repeating(step: Callable[[], None], every: float) -> Iterator[None]:
    """Runs `step`, then waits `every` seconds, over and over until the block ends; the block
    ends only once the thread has stopped."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            step()
            stop.wait(every)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
