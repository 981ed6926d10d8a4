"""The program worker of `check --watch` (forked by infractl.watch.forks): on each request it
reads the stack's settings, runs the program under the mocks and writes the synth output, the
way `infractl check --out` does, and sends back what it found.

Its resources go back as soon as the program has run, so the pack evaluates them while the
worker writes the output. The project's modules are imported here, after the fork, so they are
always the ones on disk when this worker started.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infractl.stackfile import StackFile
    from infractl.synth.capture import Captured


@dataclass(frozen=True)
class Request:
    stack: str
    config_file: str | None
    out: Path | None


@dataclass
class Synthesized:
    source: str
    file: StackFile
    resources: list[Captured]
    # After a worker's first run, the modules from outside the project it has loaded (the
    # zygote preloads them for the next worker); empty after later runs.
    third_party: list[str]


@dataclass
class Written:
    summary: str


@dataclass
class Failed:
    """The run stopped: `text` is what a cold `infractl check` would print on stderr."""

    text: str


Message = Synthesized | Written | Failed


def serve(connection: Connection, project: Path) -> int:
    """Answer requests until the command closes the connection."""
    # The cyclic collector would walk the whole heap (the SDKs' modules too) many times during
    # a run: it runs between runs instead, once each, when the results are out. What is still
    # there after the first run (modules, caches) stays for good: freezing it keeps the later
    # collections small (it holds at most one run's leftovers that are never collected).
    gc.disable()
    first = True
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return 0
        ran = first
        for message in _run(request, project if first else None):
            first = first and not isinstance(message, Synthesized)
            connection.send(message)
        gc.collect()
        if ran and not first:
            gc.freeze()


def _run(request: Request, project: Path | None) -> Iterator[Message]:
    """One run; with `project`, also report the modules loaded from outside it."""
    from infra.config.errors import ConfigError
    from infractl.errors import InfractlError
    from infractl.watch.modules import third_party_modules

    try:
        from infractl.project import open_stack
        from infractl.synth.harness import synthesize
        from infractl.synth.outdir import check_out
        from infractl.synth.render import write_output

        stack = open_stack(request.stack, request.config_file)
        if request.out is not None:
            check_out(request.out, cwd=Path.cwd())  # refuse before spending time on a synth
        result = synthesize(stack)
        modules = third_party_modules(project) if project else []
        yield Synthesized(stack.source, stack.file, result.resources, modules)
        if request.out is not None:
            yield Written(write_output(result, request.out))
    except ConfigError as exc:
        yield Failed(exc.render())
    except InfractlError as exc:
        yield Failed(f"infractl: {exc}")
    except Exception:  # a bug in the program being edited: show it, keep watching
        yield Failed(traceback.format_exc().rstrip("\n"))
