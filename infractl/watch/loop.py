"""`infractl check --watch`: run the plan of a stack again on every save, with the interpreter,
the imported SDKs and one policy-pack process kept alive between runs.

Each run prints what `infractl check` (with `--out`: `make plan`) prints, then what changed
since the last good run and how long after the save the verdict came. What each kind of save
does (infractl.watch.files): the stack's settings or policy config run again in the same program
worker; a program source forks a new worker (infractl.watch.forks); a pack source starts a new
pack. A config error, a program that fails or a pack that does not start is printed, and the loop
waits for the next save.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from infractl.errors import UsageError
from infractl.watch.changes import Snapshot, since
from infractl.watch.files import PACK, PROGRAM, Watched, Watcher
from infractl.watch.forks import Worker, Zygote
from infractl.watch.worker import Failed, Request, Synthesized, Written

if TYPE_CHECKING:
    from infractl.policy.analyzer import RunningPack
    from infractl.policy.check import AnalyzeMemo
    from infractl.project import Stack


WORKER_GONE = Failed("infractl: the program worker exited during the run")


def _print(text: str, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


class Session:
    """The state kept between runs: the program worker, the last good check, the stack."""

    def __init__(self, args: argparse.Namespace, stack: Stack, zygote: Zygote) -> None:
        self.args = args
        self.stack = stack
        self.zygote = zygote
        self.worker: Worker | None = None
        self.fresh = True  # the worker has not run yet: its first run reports its modules
        self.last: Snapshot | None = None

    def restart_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def _worker(self) -> Worker:
        if self.worker is None:
            self.worker = self.zygote.fork()
            self.fresh = True
        return self.worker

    def _first_answer(self, request: Request) -> Synthesized | Written | Failed:
        """Send the run to the worker and take its first answer. A worker found gone (killed
        between runs, so the request or the answer is lost) is replaced and asked once more."""
        for last in (False, True):
            try:
                self._worker().connection.send(request)
            except OSError:  # BrokenPipeError, ConnectionResetError
                self.restart_worker()
                continue
            answer = self._receive(retry=not last)
            if answer is not None:
                return answer
        return WORKER_GONE

    def _receive(self, retry: bool = False) -> Synthesized | Written | Failed | None:
        """The worker's next answer, within the run's time-out: a program that loops or waits
        for good is stopped, and the next save runs in a new worker. A worker that exits
        without answering is replaced; with `retry` that is None (ask again), else a failure."""
        assert self.worker is not None
        connection = self.worker.connection
        try:
            if not connection.poll(self.args.timeout):
                self.restart_worker()
                return Failed(
                    f"infractl: the program did not finish within {self.args.timeout:g} s "
                    "(--timeout); its worker was stopped"
                )
            message: Synthesized | Written | Failed = connection.recv()
        except (EOFError, OSError):
            self.restart_worker()  # the next run forks a new one
            return None if retry else WORKER_GONE
        return message

    def run(
        self,
        pack: RunningPack,
        memo: AnalyzeMemo,
        saved: float,
        warn: Callable[[Stack], None],
    ) -> None:
        """One plan: synth in the worker, check here while the worker writes the output."""
        from infra.config.user_error import UserError
        from infractl.policy.analyzer import PackError
        from infractl.policy.check import check_resources
        from infractl.policy.report import text_report
        from infractl.project import Stack

        synthesized = self._first_answer(
            Request(self.args.stack, self.args.config_file, self.args.out)
        )
        if not isinstance(synthesized, Synthesized):
            return self._not_checked(synthesized)
        if self.fresh and synthesized.third_party:
            self.zygote.preload(synthesized.third_party)
        self.fresh = False
        self.stack = Stack(
            self.stack.name, self.stack.project, synthesized.source, synthesized.file
        )
        resources = synthesized.resources
        with ThreadPoolExecutor(1) as background:
            checking = background.submit(
                check_resources, pack, self.stack, resources, self.args.policy_config, False, memo
            )
            if self.args.out is not None:
                written = self._receive() or WORKER_GONE
                if not isinstance(written, Written):
                    checking.result()  # the pack's answers keep it in step; the verdict is moot
                    return self._not_checked(written)
                _print(written.summary)
            try:
                result = checking.result()
            except PackError:
                raise
            except UserError as exc:  # a policy config saved half-written, empty, below floor
                return self._not_checked(Failed(exc.report()))
        _print(text_report(result))
        seconds = time.time() - saved
        warn(self.stack)
        snapshot = Snapshot.of(resources, result)
        if self.last is not None:
            _print(since(self.last, snapshot))
        self.last = snapshot
        _print(f"[verdict {seconds:.2f} s after the save; watching, Ctrl-C to stop]")

    def _not_checked(self, failed: Synthesized | Written | Failed) -> None:
        assert isinstance(failed, Failed)
        _print(failed.text, err=True)
        _print("[not checked; watching for the next save, Ctrl-C to stop]")


def _saved_at(paths: set[str]) -> float:
    """When the newest of the saved files was written (now, for files no longer there)."""
    times = []
    for path in paths:
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            times.append(time.time())
    return max(times, default=time.time())


def _heading(paths: set[str], watched: Watched) -> str:
    if not paths:
        return "first run"
    here = Path.cwd()
    shown = sorted(str(Path(p).relative_to(here)) if here in Path(p).parents else p for p in paths)
    kinds = {watched.kind(p) for p in paths}
    notes = [note for kind, note in ((PROGRAM, "new program worker"), (PACK, "pack restarted"))
             if kind in kinds]  # fmt: skip
    return f"{', '.join(shown)} saved" + (f" ({'; '.join(notes)})" if notes else "")


def watch(args: argparse.Namespace, warn: Callable[[Stack], None]) -> int:
    """Runs until a stop signal (which ends the command as in every command: 130 on Ctrl-C)."""
    from infra.config.waivers import waivers_path
    from infractl.policy.analyzer import PackError
    from infractl.policy.check import AnalyzeMemo, default_policy_config, start_pack
    from infractl.project import open_stack
    from infractl.synth.outdir import check_out

    for given, flag in ((args.from_dir, "--from"), (args.charts, "--charts")):
        if given:
            raise UsageError(f"--watch does not go with {flag}")
    if args.format != "text":
        raise UsageError("--watch prints text: it does not go with --format")
    stack = open_stack(args.stack, args.config_file)
    if args.out is not None:
        check_out(args.out, cwd=Path.cwd())
    project = stack.project.resolve()
    watched = Watched.of(
        project,
        stack.file.path,
        args.policy_config or default_policy_config(stack),
        waivers_path(project, stack.name),
    )
    started = time.time()
    with Zygote(project) as zygote, Watcher(watched) as watcher:
        session = Session(args, stack, zygote)
        saved: set[str] = set()
        while True:
            try:
                with start_pack(session.stack, args.timeout) as pack:
                    memo = AnalyzeMemo()
                    while True:
                        # A settings file now a link: its target's folder is watched before
                        # the run reads it, so an edit after the verdict is seen.
                        watcher.follow()
                        _print(f"--- {time.strftime('%H:%M:%S')} {_heading(saved, watched)}")
                        session.run(pack, memo, _saved_at(saved) if saved else started, warn)
                        saved = _next(watcher, watched, session)
                        if PACK in {watched.kind(p) for p in saved}:
                            break
            except PackError as exc:
                _print(f"infractl: {exc}", err=True)
                _print("[not checked; watching for the next save, Ctrl-C to stop]")
                saved = _next(watcher, watched, session)


def _next(watcher: Watcher, watched: Watched, session: Session) -> set[str]:
    saved = watcher.wait()
    if PROGRAM in {watched.kind(p) for p in saved}:
        session.restart_worker()
    return saved
