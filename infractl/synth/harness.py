"""Run the Pulumi program in this process under mocks, exactly as `pulumi up` would call it."""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from infra.config import StackConfig
from infractl.project import PROJECT, Stack
from infractl.stackfile import StackFile
from infractl.synth.capture import Captured, CapturingMonitor, StableMocks

if TYPE_CHECKING:
    from scorecard.predict import RepositoryPrediction


@dataclass
class SynthResult:
    stack: str
    config: StackConfig
    resources: list[Captured]

    @cached_property
    def predictions(self) -> list[RepositoryPrediction]:
        """The predicted Scorecard of each governed repository, made once: a synth writes each
        one and summarises them all."""
        from scorecard.predict import predict_resources

        return predict_resources([r.as_json() for r in self.resources])


def _quiet_event_loop_teardown(unraisable: sys.UnraisableHookArgs) -> None:
    """The mock monitor leaves per-thread event loops that fail to close at interpreter exit;
    the noise is harmless (the run is complete) but would read as a crash."""
    owner = getattr(unraisable.object, "__qualname__", "")
    if owner == "BaseEventLoop.__del__" and isinstance(unraisable.exc_value, ValueError):
        return
    sys.__unraisablehook__(unraisable)


def _without_source_positions() -> None:
    """The SDK walks the whole call stack of every resource it registers, turning each frame
    into a file URI, so that the engine can show where a resource was declared (a tenth of an
    offline plan's time). Nothing here reads it: the mock monitor ignores the request's
    `sourcePosition` and `stackTrace`, and the capture records neither. So the harness, and only
    it (`pulumi preview`/`up` never import it), registers every resource with an empty trace. The
    SDK function is private: tests/test_synth_harness.py fails if an upgrade renames it."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    resource._get_stack_trace = source_pb2.StackTrace


def run_program(stack: str, stack_file: StackFile, config: StackConfig) -> SynthResult:
    """Register every resource of the program; call once per process (the runtime is global)."""
    import pulumi.runtime
    from pulumi.runtime.mocks import test as run_to_completion

    _without_source_positions()  # before set_mocks, which registers the root stack
    # The program keeps nearly everything it allocates to the end (each resource's Outputs and
    # futures, the captured inputs): at the default thresholds the cyclic collector rescanned
    # that growing heap over and over, a third of the CPU of a 200-repository check (measured
    # with gc.callbacks). Collected this much less often, the peak memory measured the same.
    gc.set_threshold(50_000, 20, 20)
    mocks = StableMocks()
    monitor = CapturingMonitor(mocks)
    pulumi.runtime.set_all_config(stack_file.config, stack_file.secret_keys)
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        monitor=monitor,
        logger=logging.getLogger("infractl.program"),
    )

    from infra import program
    from infra.secrets import OFFLINE_ENV

    os.environ[OFFLINE_ENV] = "1"
    sys.unraisablehook = _quiet_event_loop_teardown
    run_to_completion(lambda: program.main(config))()
    resources = sorted(monitor.captured, key=lambda r: r.urn)
    return SynthResult(stack=stack, config=config, resources=resources)


def synthesize(stack: Stack) -> SynthResult:
    """Load the stack's config and run the program over it."""
    return run_program(stack.name, stack.file, stack.load())
