"""A scenario is data: an ordered list of steps against one stack, each naming what it does and
what it checks (e2e/scenarios.py holds the lists; `python -m e2e.run --list` prints them).

The runner walks a list on a control plane and stack of its own, or, for an isolated scenario
(the faults), gives each step a fresh control plane and stack so that one failure cannot hide the
next. A step whose needs did not pass is skipped, saying which; a step the harness cannot run
(HarnessError) is recorded and the scenario stops there, or, isolated, goes on with the next step.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e import controlplane, engine, stacks
from e2e.errors import HarnessError
from e2e.programs import program
from e2e.report import StackReport, errors
from e2e.tools import ROOT


@dataclass
class StackRun:
    """What the steps of one stack share: its control plane, its engine, its report, and what
    earlier steps left for later ones."""

    stack: str
    folder: Path
    plane: controlplane.ControlPlane
    pulumi: engine.Engine
    report: StackReport
    say: Callable[[str], None]
    # The offline synth's output folder (step `synth`).
    synth: Path | None = None
    # The kubernetes plugin version registered (step `register-provider`).
    provider: str = ""

    @property
    def config(self) -> dict[str, Any]:
        return dict(stacks.settings(self.stack)["config"])

    @property
    def settings_file(self) -> Path:
        """The stack's settings as the engine holds them (`pulumi config set` writes there)."""
        return self.pulumi.project / f"Pulumi.{self.stack}.yaml"

    def pack_args(self) -> list[str]:
        return [
            "--policy-pack",
            str(engine.PACK),
            "--policy-pack-config",
            str(ROOT / "policies" / "config" / f"{self.stack}.json"),
        ]

    def cli(self, command: str, *args: str, pack: bool = False, **kwargs: Any) -> engine.Result:
        """`pulumi <command> … --stack <stack>`, with the policy pack when `pack`; an update or
        preview gets the program unless told otherwise."""
        if command in ("preview", "up") and "program" not in kwargs:
            kwargs["program"] = program
        extra = self.pack_args() if pack else []
        return self.pulumi.run(command, *args, "--stack", self.stack, *extra, **kwargs)

    def expect_no_changes(self, name: str, why: str) -> bool:
        """`pulumi preview --expect-no-changes` with the pack, recorded as `name`."""
        again = self.cli("preview", "--expect-no-changes", "--diff", pack=True)
        self.report.step(name, again)
        return self.report.check(again.returncode == 0, f"{name}: {why}: {errors(again)}")


@dataclass(frozen=True)
class Step:
    name: str
    does: str
    checks: str
    # Returns a few words for the progress line (an exit code, a count), or None.
    run: Callable[[StackRun], str | None]
    # Steps that must have passed first; otherwise this one is skipped, naming them.
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    stack: str
    steps: tuple[Step, ...]
    # Each step on a control plane and stack of its own, after `prepare`.
    isolated: bool = False
    prepare: tuple[Step, ...] = ()
    about: str = ""

    def step(self, name: str) -> Step:
        found = [s for s in self.steps if s.name == name]
        if not found:
            raise HarnessError(
                f"{self.name} has no step {name!r} (steps: {', '.join(self.names())})"
            )
        return found[0]

    def names(self) -> list[str]:
        return [s.name for s in self.steps]


@dataclass
class Runner:
    """Walks scenarios, printing one progress line per step."""

    folder: Path
    say: Callable[[str], None]
    reports: list[StackReport] = field(default_factory=list)

    def run(self, scenario: Scenario, only: tuple[str, ...] = ()) -> StackReport:
        report = StackReport(scenario.name, scenario.stack)
        self.reports.append(report)
        steps = tuple(scenario.step(name) for name in only) if only else scenario.steps
        if scenario.isolated:
            for step in steps:
                try:
                    with self._stack(
                        scenario, self.folder / scenario.name / step.name, report
                    ) as s:
                        for prepared in scenario.prepare:
                            prepared.run(s)
                        self._step(step, s, {})
                except HarnessError as exc:
                    self._could_not_run(report, step, exc)
            return report
        outcomes: dict[str, str] = {}
        try:
            with self._stack(scenario, self.folder / scenario.name, report) as s:
                for step in steps:
                    self._step(step, s, outcomes)
        except HarnessError as exc:
            stopped = next((st for st in steps if outcomes.get(st.name) == "running"), None)
            self._could_not_run(report, stopped, exc)
            for rest in steps:
                if rest.name not in outcomes:
                    report.outcomes.append({"step": rest.name, "outcome": "not run"})
        return report

    @contextlib.contextmanager
    def _stack(self, scenario: Scenario, folder: Path, report: StackReport) -> Iterator[StackRun]:
        with controlplane.running(folder / "cluster") as plane:
            label = f"{scenario.name}/{folder.name}" if scenario.isolated else scenario.name
            self.say(f"{label}: control plane up ({controlplane.version_info(plane)})")
            pulumi = engine.Engine(folder / "engine", plane.kubeconfig)
            pulumi.init_stack(scenario.stack, stacks.settings(scenario.stack))
            yield StackRun(scenario.stack, folder, plane, pulumi, report, self.say)

    def _step(self, step: Step, s: StackRun, outcomes: dict[str, str]) -> None:
        report = s.report
        missing = [need for need in step.needs if outcomes.get(need) != "passed"]
        if missing:
            outcome = f"skipped: {', '.join(missing)} did not pass"
            outcomes[step.name] = outcome
            report.outcomes.append({"step": step.name, "outcome": outcome})
            self.say(f"{report.scenario}: {step.name}: {outcome}")
            return
        failed, passed, started = len(report.failures), report.passed, time.monotonic()
        # Recorded before it runs: a HarnessError inside leaves it "could not run".
        outcomes[step.name] = "running"
        said = step.run(s)
        seconds = round(time.monotonic() - started, 1)
        new = report.failures[failed:]
        outcome = "failed" if new else "passed"
        outcomes[step.name] = outcome
        checks = report.passed - passed + len(new)
        report.outcomes.append(
            {"step": step.name, "outcome": outcome, "checks": checks, "seconds": seconds}
        )
        detail = f": {said}" if said else ""
        self.say(
            f"{report.scenario}: {step.name}: {outcome} ({checks} checks, {seconds:.0f} s){detail}"
        )

    def _could_not_run(self, report: StackReport, step: Step | None, exc: HarnessError) -> None:
        name = step.name if step is not None else "setup"
        report.harness_errors.append(f"{name}: {exc}")
        report.outcomes.append({"step": name, "outcome": f"could not run: {exc}"})
        self.say(f"{report.scenario}: {name}: could not run: {exc}")
