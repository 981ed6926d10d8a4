"""The e2e scenarios as data, without Go: every list is well formed and printed by `--list`; the
runner skips what a failed step's dependants cannot do and keeps going past a step it cannot run;
the faults' recovery follows the runbook whichever error the CLI reports first; and only
`--record` writes under tests/."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e import faults, recorded, stacks
from e2e import run as e2e_run
from e2e.engine import Result
from e2e.errors import HarnessError
from e2e.report import StackReport
from e2e.scenario import Runner, Scenario, StackRun, Step
from e2e.scenarios import SCENARIOS
from tests.conftest import REPO


def test_list_prints_every_step_with_what_it_does_and_checks() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "e2e.run", "--list"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for scenario in SCENARIOS:
        assert f"{scenario.name} (stack {scenario.stack};" in text
        for number, step in enumerate(scenario.steps, 1):
            assert f"{number}. {step.name} does: {' '.join(step.does.split())}" in text
            assert f"checks: {' '.join(step.checks.split())}" in text


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_need_is_an_earlier_step_of_its_list(scenario: Scenario) -> None:
    """A need that is not an earlier step would skip its step on every run."""
    names = scenario.names()
    assert len(names) == len(set(names)), names
    for index, step in enumerate(scenario.steps):
        assert step.does and step.checks, step.name
        earlier = set(names[:index]) | {p.name for p in scenario.prepare}
        assert set(step.needs) <= earlier, (step.name, step.needs)


def test_the_faults_run_each_on_a_stack_of_its_own() -> None:
    isolated = [s for s in SCENARIOS if s.isolated]
    assert [s.name for s in isolated] == ["faults"]
    assert isolated[0].names() == [fault.name for fault in faults.FAULTS]


def _runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, said: list[str]) -> Runner:
    """A runner whose stacks are a report and a folder (no control plane, no engine)."""

    @contextlib.contextmanager
    def stack(self: Runner, scenario: Scenario, folder: Path, report: StackReport) -> Iterator[Any]:
        if folder.name == "broken-plane":
            raise HarnessError("etcd did not start")
        yield StackRun(scenario.stack, folder, None, None, report, said.append)  # type: ignore[arg-type]

    monkeypatch.setattr(Runner, "_stack", stack)
    return Runner(tmp_path, said.append)


def _step(name: str, ok: bool = True, needs: tuple[str, ...] = (), boom: bool = False) -> Step:
    def run(s: StackRun) -> str:
        if boom:
            raise HarnessError(f"{name} could not start")
        s.report.check(ok, f"{name} went wrong")
        return "done"

    return Step(name, f"does {name}", f"checks {name}", run, needs)


def test_a_failed_step_skips_its_dependants_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    steps = (
        _step("up", ok=False),
        _step("compare", needs=("up",)),
        _step("lint"),
        _step("destroy"),
    )
    report = _runner(tmp_path, monkeypatch, said).run(Scenario("s", "staging", steps))
    outcomes = {o["step"]: o["outcome"] for o in report.outcomes}
    assert outcomes == {
        "up": "failed",
        "compare": "skipped: up did not pass",
        "lint": "passed",
        "destroy": "passed",
    }
    assert report.failures == ["up went wrong"] and report.passed == 2
    assert "s: up: failed (1 checks, 0 s): done" in said


def test_a_step_the_harness_cannot_run_stops_its_stack_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    steps = (_step("up"), _step("blue-green", boom=True), _step("destroy"))
    report = _runner(tmp_path, monkeypatch, said).run(Scenario("prod", "prod", steps))
    assert report.outcomes == [
        {"step": "up", "outcome": "passed", "checks": 1, "seconds": 0.0},
        {"step": "blue-green", "outcome": "could not run: blue-green could not start"},
        {"step": "destroy", "outcome": "not run"},
    ]
    assert report.harness_errors == ["blue-green: blue-green could not start"]


def test_an_isolated_step_that_fails_or_cannot_run_hides_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    steps = (
        _step("sigkill", ok=False),
        _step("broken-plane"),
        _step("apiserver-down", boom=True),
        _step("torn-checkpoint"),
    )
    scenario = Scenario("faults", "staging", steps, isolated=True, prepare=(_step("register"),))
    report = _runner(tmp_path, monkeypatch, said).run(scenario)
    assert [(o["step"], o["outcome"]) for o in report.outcomes] == [
        ("sigkill", "failed"),
        ("broken-plane", "could not run: etcd did not start"),
        ("apiserver-down", "could not run: apiserver-down could not start"),
        ("torn-checkpoint", "passed"),
    ]
    # One step alone: as `--fault torn-checkpoint` asks.
    alone = _runner(tmp_path, monkeypatch, said).run(scenario, ("torn-checkpoint",))
    assert [o["step"] for o in alone.outcomes] == ["torn-checkpoint"]
    with pytest.raises(HarnessError, match="faults has no step 'torn'"):
        scenario.step("torn")


class FileBackend:
    """The CLI's answers on a file backend after a killed run, as pulumi v3.274.0's diy backend
    gives them (pkg/backend/diy): `up` takes the stack's lock first and fails on another's;
    `cancel` removes every lock without reading the checkpoint; a torn checkpoint fails whatever
    loads the stack, `stack import` included (what make e2e saw). The checkpoint is a real file
    under `folder`, as the harness finds it. `lock_checked_first=False` is a CLI that reports the
    checkpoint before the lock (what CI saw)."""

    LOCKED = "error: the stack is currently locked by 1 lock(s). Either wait for the other"
    TORN = "error: failed to load checkpoint: unexpected end of JSON input"

    def __init__(
        self, folder: Path, locked: bool, torn: bool, lock_checked_first: bool = True
    ) -> None:
        self.locked, self.lock_checked_first = locked, lock_checked_first
        stacks = folder / "state" / ".pulumi" / "stacks" / "tbcoin-platform"
        stacks.mkdir(parents=True)
        self.state = stacks / "staging.json"
        whole = json.dumps({"version": 3, "checkpoint": {"latest": {"resources": []}}})
        self.state.write_text(whole[: len(whole) // 2] if torn else whole)
        self.commands: list[str] = []

    @property
    def torn(self) -> bool:
        attrs = self.state.with_name(self.state.name + ".attrs")
        try:
            json.loads(self.state.read_text())
            if attrs.exists():
                json.loads(attrs.read_text())  # an empty one: "EOF", as fileblob reads it
        except ValueError:
            return True
        return False

    def cli(self, command: str, *args: str, **_: Any) -> Result:
        self.commands.append(" ".join([command, *args[:1]]))
        problems = [(self.locked, self.LOCKED), (self.torn, self.TORN)]
        if not self.lock_checked_first:
            problems.reverse()
        if command == "cancel":
            self.locked = False
            return self._result(0, "The currently running update has been canceled")
        if command == "stack":
            problems = [(self.torn, self.TORN)]  # export takes no lock
        for present, message in problems:
            if present:
                return self._result(255, message)
        return self._result(0, "")

    @staticmethod
    def _result(code: int, stderr: str) -> Result:
        return Result(["pulumi"], code, "", stderr, 0.1, None)


def _recover(backend: FileBackend, tmp_path: Path) -> tuple[bool, list[dict[str, Any]]]:
    pulumi = type("Pulumi", (), {"folder": tmp_path})()
    s = StackRun("staging", tmp_path, None, pulumi, StackReport("faults", "staging"), print)  # type: ignore[arg-type]
    s.cli = backend.cli  # type: ignore[method-assign]
    recovery = faults.Recovery(s, [])
    recovery._backup = {"version": 3, "checkpoint": {"latest": {"resources": []}}}
    return recovery.run(), recovery.steps


@pytest.mark.parametrize("lock_checked_first", [True, False], ids=["lock-first", "torn-first"])
def test_a_torn_checkpoint_under_a_stale_lock_recovers_whichever_is_reported_first(
    tmp_path: Path, lock_checked_first: bool
) -> None:
    backend = FileBackend(tmp_path, locked=True, torn=True, lock_checked_first=lock_checked_first)
    recovered, steps = _recover(backend, tmp_path)
    assert recovered, steps
    assert not backend.locked and not backend.torn
    # Never an import on a locked stack twice, never a second cancel: the runbook's order.
    assert backend.commands.count("cancel --yes") == 1
    assert steps[-1] == {"command": "pulumi up --yes", "exit": 0}
    failed = [step for step in steps if step["exit"] != 0]
    assert all(step["output"] for step in failed), "a failed command's output is kept"


def test_without_the_lock_remedy_the_torn_first_case_fails_as_ci_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mutation: the harness that only read `up`'s errors never cancelled."""
    monkeypatch.setattr(faults, "REMEDIES", faults.REMEDIES[1:])
    backend = FileBackend(tmp_path, locked=True, torn=True, lock_checked_first=False)
    recovered, steps = _recover(backend, tmp_path)
    assert not recovered and backend.locked
    assert FileBackend.LOCKED in " ".join(steps[-1]["output"])


def test_the_torn_file_is_kept_beside_the_restored_backup(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path, locked=False, torn=True)
    torn = backend.state.read_text()
    recovered, _ = _recover(backend, tmp_path)
    assert recovered and not backend.torn
    assert backend.state.with_name("staging.json.torn").read_text() == torn


def test_a_whole_checkpoint_with_an_empty_attributes_file_is_restored_too(tmp_path: Path) -> None:
    """A kill while the backend rewrote the checkpoint's `.attrs` (what make e2e saw: 'failed to
    load checkpoint: EOF', no lock): replacing the checkpoint alone would not do."""
    backend = FileBackend(tmp_path, locked=False, torn=False)
    attrs = backend.state.with_name("staging.json.attrs")
    attrs.write_text("")
    assert backend.torn
    recovered, steps = _recover(backend, tmp_path)
    assert recovered, steps
    assert not attrs.exists() and attrs.with_name("staging.json.attrs.torn").exists()


@pytest.mark.parametrize(
    ("locked", "torn", "commands"),
    [
        (False, False, ["up --yes"]),
        (True, False, ["up --yes", "cancel --yes", "up --yes"]),
        (False, True, ["up --yes", "stack export", "up --yes"]),
    ],
)
def test_each_fault_gets_only_the_remedies_its_errors_call_for(
    tmp_path: Path, locked: bool, torn: bool, commands: list[str]
) -> None:
    backend = FileBackend(tmp_path, locked=locked, torn=torn)
    recovered, _ = _recover(backend, tmp_path)
    assert recovered and backend.commands == commands


def test_recorded_sees_what_was_added_changed_or_removed_and_not_caches(tmp_path: Path) -> None:
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "a.md").write_text("a")
    (tmp_path / "b.json").write_text("b")
    before = recorded.snapshot(tmp_path)
    assert recorded.changes(before, tmp_path) == []
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"x")
    assert recorded.changes(before, tmp_path) == []
    (tmp_path / "golden" / "a.md").write_text("changed")
    (tmp_path / "b.json").unlink()
    (tmp_path / "c.jsonl").write_text("c")
    assert recorded.changes(before, tmp_path) == [
        "added c.jsonl",
        "changed golden/a.md",
        "removed b.json",
    ]


def test_a_test_session_that_writes_into_tests_fails_naming_the_file(tmp_path: Path) -> None:
    """tests/recorded_guard.py on a real pytest session in a project of its own (the mutation:
    a test that writes a file under that project's tests/ without --record)."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_writes.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            def test_writes():
                (Path(__file__).parent / "golden.md").write_text("written by a test")
            """
        )
    )
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "tests.recorded_guard", "--rootdir", str(tmp_path), "tests",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "tests/ changed without --record: added golden.md" in done.stdout
    recorded_run = subprocess.run(
        [*command, "--record"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert recorded_run.returncode == 0, recorded_run.stdout + recorded_run.stderr


def _report(scenario: str, failures: list[str]) -> StackReport:
    report = StackReport(scenario, scenario)
    report.failures, report.passed = failures, 3
    return report


@pytest.fixture
def offline_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """e2e.run's main with the scenarios replaced by what the test writes, tests/ and out/
    under tmp_path, and no Go."""
    seen: dict[str, Any] = {"recorded": False, "tests": tmp_path / "tests", "write": None}
    seen["tests"].mkdir()
    (seen["tests"] / "kept.json").write_text("{}")
    monkeypatch.setattr(recorded, "TESTS", seen["tests"])
    monkeypatch.setattr(e2e_run, "REPORT", tmp_path / "out" / "report.json")
    monkeypatch.setattr(e2e_run.tools, "ensure", lambda: {})
    monkeypatch.setattr(e2e_run.engine, "versions", lambda: {})
    monkeypatch.setattr(e2e_run, "record", lambda reports: seen.update(recorded=True))
    # What main sets for a real run, put back after: the fake secrets and SIGTERM's handler.
    for name, value in stacks.SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(e2e_run.signal, "signal", lambda *args: None)

    def run(self: Runner, scenario: Scenario, only: tuple[str, ...] = ()) -> StackReport:
        if seen["write"] is not None:
            (seen["tests"] / seen["write"]).write_text("x")
        report = _report(scenario.name, [])
        self.reports.append(report)
        return report

    monkeypatch.setattr(Runner, "run", run)
    return seen


def test_a_run_without_record_writes_nothing_under_tests(
    offline_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert e2e_run.main(["--faults-only"]) == 0
    assert not offline_run["recorded"]
    assert sorted(p.name for p in offline_run["tests"].iterdir()) == ["kept.json"]
    assert capsys.readouterr().out.strip() == "e2e: 4 passed, 0 failed"
    assert e2e_run.main(["--faults-only", "--record"]) == 0
    assert offline_run["recorded"]


def test_a_run_that_writes_under_tests_without_record_fails(
    offline_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    offline_run["write"] = "stray.jsonl"
    assert e2e_run.main(["--stack", "staging", "--skip-faults"]) == 1
    out = capsys.readouterr().out
    assert out.strip() == "e2e: 3 passed, 1 failed"
    report = (offline_run["tests"].parent / "out" / "report.json").read_text()
    assert json.loads(report)["written-under-tests"] == ["added stray.jsonl"]


def test_the_runbook_gives_the_harness_remedies_in_the_harness_order() -> None:
    """docs/runbooks/failed-up.md step 4 and e2e/faults.py are the same recovery."""
    text = (REPO / "docs" / "runbooks" / "failed-up.md").read_text()
    step = text[text.index("4. **The run was stopped or killed**") : text.index("5. **")]
    places = [step.index(remedy.says) for remedy in faults.REMEDIES]
    assert places == sorted(places)
    for remedy in faults.REMEDIES:
        assert remedy.command.split(" (")[0].split(" --file")[0] in " ".join(step.split())


def test_the_internals_page_shows_the_lists_as_they_are() -> None:
    page = (REPO / "docs" / "internals" / "e2e.md").read_text()
    command = "$ python -m e2e.run --list\n"
    shown = page[page.index(command) + len(command) :].split("\n```", 1)[0]
    assert shown == e2e_run.listing(), "docs/internals/e2e.md: paste `python -m e2e.run --list`"
