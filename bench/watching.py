"""Save to verdict under `infractl check --watch`: a watch runs on a copy of each stack's file;
each sample writes a one-value edit (a replica count, flipped between two valid values) and takes
the time from the write to the verdict line read on the watch's stdout; a program sample saves a
program source instead, which costs a new program worker."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.stacks import REPO

# One edit per stack that changes resources (the program's result differs each time).
EDITS = {
    "staging": ("        pods: 20\n", "        pods: 24\n"),  # the namespace quota
    "prod": ("      replicas: 3\n", "      replicas: 4\n"),  # the api service's
}
VERDICT, NOT_CHECKED = "[verdict ", "[not checked"
# A program source the watch reloads the program for when it is saved.
PROGRAM_FILE = REPO / "infra" / "program.py"


class Watch:
    def __init__(self, folder: Path, stack: str) -> None:
        self.stack_file = folder / f"Pulumi.{stack}.yaml"
        shutil.copy(REPO / f"Pulumi.{stack}.yaml", self.stack_file)
        out = folder / f"watch-{stack}"
        self.edit = EDITS[stack]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infractl.cli", "check", "--watch", "--stack", stack,
             "--config-file", str(self.stack_file), "--out", str(out)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self._lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._verdict()  # the first run

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put((time.perf_counter(), line))

    def _verdict(self) -> float:
        while True:
            when, line = self._lines.get(timeout=300)
            if line.startswith(NOT_CHECKED):
                raise RuntimeError(f"the watch of {self.stack_file} did not check an edit")
            if line.startswith(VERDICT):
                return when

    def sample(self) -> float:
        """Seconds from writing the edit to reading the verdict."""
        text = self.stack_file.read_text()
        old, new = self.edit if self.edit[0] in text else self.edit[::-1]
        started = time.perf_counter()
        self.stack_file.write_text(text.replace(old, new, 1))
        return self._since(started)

    def _since(self, started: float) -> float:
        seconds = self._verdict() - started
        if seconds <= 0:  # a verdict printed before this save: a run another save started
            raise RuntimeError(f"the watch of {self.stack_file} answered before the save")
        return seconds

    def sample_program(self) -> float:
        """Seconds from a save of a program source to the verdict: the watch forks a new
        program worker first. The save is a touch of PROGRAM_FILE (its mtime, not its text),
        so the repository is never edited; every watch of the repository sees it, so take
        these samples with no other watch running."""
        started = time.perf_counter()
        os.utime(PROGRAM_FILE)
        return self._since(started)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
