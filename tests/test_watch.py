"""`infractl check --watch` (issue 25): every run prints what a cold `infractl check --out` of
the same files prints and writes the same output; config errors are shown and the loop goes on; a
program change gets a fresh worker (a module removed from disk is gone); a pack change a fresh
pack; Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from infractl.signals import STOP_SIGNALS
from tests.conftest import REPO, infractl

MARKERS = ("[verdict ", "[not checked")
PACK_PID = re.compile(r"run as pid (\d+) on port \d+")


class Watching:
    """A running `infractl check --watch`, stdout and stderr in one pipe (so lines keep their
    order), in a session of its own as a terminal would run it."""

    def __init__(self, *args: str | Path, cwd: Path = REPO) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infractl.cli", "check", "--watch", *map(str, args)],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            # As from a shell: a stop signal this test worker ignores would survive exec.
            preexec_fn=lambda: [signal.signal(each, signal.SIG_DFL) for each in STOP_SIGNALS],
        )
        self.lines: list[str] = []
        self._read = 0
        self._lock = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))
                self._lock.notify_all()
        with self._lock:
            self.lines.append("<eof>")
            self._lock.notify_all()

    def next_run(self, timeout: float = 180.0) -> list[str]:
        """The lines of the next run, from its `---` heading to its closing marker."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for i in range(self._read, len(self.lines)):
                    line = self.lines[i]
                    if line == "<eof>":
                        raise AssertionError("the watch ended:\n" + "\n".join(self.lines))
                    if line.startswith(MARKERS):
                        run, self._read = self.lines[self._read : i + 1], i + 1
                        start = max(j for j, text in enumerate(run) if text.startswith("--- "))
                        return run[start:]
                remaining = deadline - time.monotonic()
                assert remaining > 0, "no verdict in time:\n" + "\n".join(self.lines)
                self._lock.wait(remaining)

    def stop(self) -> int:
        """SIGINT to the watch; its exit code once it ended and all it printed was read (the
        reader may lag behind the exit on a loaded machine)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=60)
        with self._lock:
            self._lock.wait_for(lambda: "<eof>" in self.lines, timeout=30)
        return code


def _normal(lines: list[str]) -> list[str]:
    return [PACK_PID.sub("run as pid N on port N", line) for line in lines]


def _cold(stack_file: Path, policy_config: Path, out: Path, shown_as: Path) -> list[str]:
    """What a cold `infractl check --out` prints for the same files, stdout then stderr, with
    its output folder named as the watch's is."""
    if out.exists():
        shutil.rmtree(out)
    run = infractl(
        "check", "--stack", "prod", "--config-file", stack_file,
        "--policy-config", policy_config, "--out", out,
    )  # fmt: skip
    text = (run.stdout + run.stderr).replace(f"{out}/", f"{shown_as}/")
    return _normal(text.splitlines())


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_every_run_is_what_a_cold_plan_prints_and_writes(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.prod.yaml"
    policy_config = tmp_path / "prod.json"
    shutil.copy(REPO / "Pulumi.prod.yaml", stack_file)
    shutil.copy(REPO / "policies/config/prod.json", policy_config)
    out, cold_out = tmp_path / "out", tmp_path / "cold"
    args = ("--stack", "prod", "--config-file", stack_file, "--policy-config", policy_config)
    watching = Watching(*args, "--out", out)
    security_label = '- {name: security, color: "d73a4a", description: Security fixes and reports}'
    edits = [
        ("first run", None),
        # a service's replicas: its HorizontalPodAutoscaler changes
        ("replicas", lambda: _edit(stack_file, "      replicas: 3\n", "      replicas: 4\n")),
        # one more issue label: a resource is added
        (
            "label",
            lambda: _edit(
                stack_file,
                security_label,
                security_label + '\n        - {name: watched, color: "ededed", description: new}',
            ),
        ),
        # a stricter policy parameter: the same resources, new violations
        ("policy config", lambda: _edit(policy_config, '"minReplicas": 2', '"minReplicas": 4')),
        # config the program refuses: its one-line errors, and the loop goes on
        ("bad config", lambda: _edit(stack_file, "    replicas: 3\n", "    replicas: 0\n")),
        # everything back: the label removed, the violations gone
        (
            "back",
            lambda: (
                shutil.copy(REPO / "Pulumi.prod.yaml", stack_file),
                shutil.copy(REPO / "policies/config/prod.json", policy_config),
            ),
        ),
    ]
    try:
        runs = {}
        for name, edit in edits:
            if edit is not None:
                edit()
            run = watching.next_run()
            if name == "back" and run[-1].startswith("[verdict") and "prod.json" not in run[0]:
                run = watching.next_run()  # the two files were seen as two saves
            runs[name] = run
            cold = _cold(stack_file, policy_config, cold_out, out)
            body = [line for line in _normal(run[1:-1]) if not line.startswith(("Since ", "  "))]
            if name == "bad config":
                assert run[-1].startswith("[not checked")
                assert (
                    body
                    == cold
                    == [f"{stack_file}: tbcoin-platform:kubernetes.replicas: must be >= 1 (got 0)"]
                )
                continue
            assert run[-1].startswith("[verdict"), run
            expected = [line for line in cold if not line.startswith("  ")]
            assert body == expected, name
            assert _files(out) == _files(cold_out), name
    finally:
        watching.stop()
    assert "Since the last run" not in "\n".join(runs["first run"])
    since = {name: next(line for line in run if line.startswith("Since ")) for name, run in
             runs.items() if name not in ("first run", "bad config")}  # fmt: skip
    assert since["replicas"].startswith("Since the last run: 0 resource(s) added, 0 removed, 1")
    assert "  ~ kubernetes:autoscaling/v2:HorizontalPodAutoscaler" in "\n".join(runs["replicas"])
    assert since["label"].startswith("Since the last run: 1 resource(s) added, 0 removed, 0")
    assert "  + github:index/issueLabel:IssueLabel" in "\n".join(runs["label"])
    assert since["policy config"].endswith("0 changed; 1 violation(s) new, 0 gone")
    assert "  new [mandatory] k8s-production-high-availability" in "\n".join(runs["policy config"])
    assert since["back"].endswith("0 violation(s) new, 1 gone")
    assert "1 removed" in since["back"]


def _project_copy(folder: Path) -> Path:
    """The project's sources in a folder of their own, to be edited while a watch runs there."""
    for name in ("infra", "infractl", "policies"):
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"):
        shutil.copy(REPO / name, folder / name)
    (folder / "vendor").symlink_to(REPO / "vendor")
    return folder


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_program_and_pack_changes_restart_their_process(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    (project / "out").mkdir()
    labels = project / "infra/manifests/labels.py"
    watching = Watching("--stack", "prod", "--out", "out/prod", cwd=project)
    try:
        first = watching.next_run()
        assert first[-1].startswith("[verdict"), first
        pack = int(PACK_PID.search("\n".join(first))[1])  # type: ignore[index]

        # A module the program imports deep down: the new value is in every label.
        _edit(labels, 'MANAGED_BY = "pulumi"', 'MANAGED_BY = "pulumi-edited"')
        edited = watching.next_run()
        assert edited[0].endswith("infra/manifests/labels.py saved (new program worker)")
        assert "Since the last run: 0 resource(s) added, 0 removed, 49 changed;" in "\n".join(
            edited
        )
        manifest = project / "out/prod/kubernetes/_cluster/namespace-tbcoin-prod.yaml"
        assert "app.kubernetes.io/managed-by: pulumi-edited" in manifest.read_text()

        # A module removed from disk: a worker that kept it loaded would still run the program.
        labels.rename(tmp_path / "labels.py")
        removed = watching.next_run()
        assert removed[-1].startswith("[not checked"), removed
        assert "ModuleNotFoundError: No module named 'infra.manifests.labels'" in removed
        (tmp_path / "labels.py").rename(labels)
        assert watching.next_run()[-1].startswith("[verdict")

        # The pack's own code: a new pack process, the old one gone.
        with (project / "policies/tbcoin_policies/common.py").open("a") as handle:
            handle.write("# edited while watching\n")
        restarted = watching.next_run()
        assert restarted[0].endswith("saved (pack restarted)"), restarted
        new_pack = int(PACK_PID.search("\n".join(restarted))[1])  # type: ignore[index]
        assert new_pack != pack
        assert not _alive(pack)
    finally:
        watching.stop()


def test_ctrl_c_stops_the_watch_and_everything_it_started(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(REPO / "Pulumi.prod.yaml", stack_file)
    watching = Watching("--stack", "prod", "--config-file", stack_file)
    assert watching.next_run()[-1].startswith("[verdict")
    started = _descendants(watching.process.pid)
    # the zygote, its program worker and the pack
    assert len(started) == 3, started
    assert watching.stop() == 128 + signal.SIGINT
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if _alive(pid)]
    assert watching.lines[-2:] == ["infractl: stopped by SIGINT", "<eof>"]
    assert "Traceback" not in "\n".join(watching.lines)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "out"], "infractl: --watch does not go with --from"),
        (["--format", "json"], "infractl: --watch prints text: it does not go with --format"),
    ],
)
def test_watch_refuses_what_it_cannot_keep_doing(extra: list[str], message: str) -> None:
    run = infractl("check", "--watch", "--stack", "prod", *extra)
    assert (run.code, run.stderr.strip()) == (2, message)


def _worker_pid(watching: Watching) -> int:
    """The program worker: the zygote's child (the zygote is the command's child that is not
    the pack)."""
    below = _descendants(watching.process.pid)
    workers = [pid for pid in below if _descendants(pid) == set() and any(
        pid in _descendants(parent) for parent in below if parent != pid)]  # fmt: skip
    assert len(workers) == 1, (below, workers)
    return workers[0]


def test_the_watch_outlives_bad_saves_a_killed_worker_a_loop_and_a_link(tmp_path: Path) -> None:
    """Issue 35.6 and 35.2: a policy config saved empty, half-written or below the floor, a
    killed program worker and a program that never finishes are each one message and the watch
    goes on; a settings file replaced by a symbolic link is followed to its target."""
    project = _project_copy(tmp_path / "project")
    policy = project / "policies/config/prod.json"
    good = policy.read_text()
    watching = Watching("--stack", "prod", "--timeout", "20", cwd=project)
    try:
        assert watching.next_run()[-1].startswith("[verdict")
        for text, said in (
            ("", "not valid JSON: line 1, column 1"),
            (good[: len(good) // 2], "not valid JSON"),
            (good.replace('"all": "mandatory"', '"all": "advisory"'), "is mandatory on stack"),
        ):
            policy.write_text(text)
            run = watching.next_run()
            assert run[-1].startswith("[not checked") and said in "\n".join(run), run
        policy.write_text(good)
        assert watching.next_run()[-1].startswith("[verdict")

        os.kill(_worker_pid(watching), signal.SIGKILL)
        _edit(policy, '"minReplicas": 2', '"minReplicas": 2 ')
        replaced = watching.next_run()
        assert replaced[-1].startswith("[verdict"), replaced

        # The settings file replaced by a link into another folder: edits there are seen.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        target = elsewhere / "prod-settings.yaml"
        shutil.copy(project / "Pulumi.prod.yaml", target)
        link = project / "Pulumi.prod.yaml"
        temporary = project / "Pulumi.prod.yaml.new"
        temporary.symlink_to(target)
        temporary.rename(link)
        assert watching.next_run()[-1].startswith("[verdict")
        _edit(target, "config:\n", "config:\n  tbcoin-platform:unknownKeyForTheTest: 1\n")
        edited = watching.next_run()
        assert edited[-1].startswith("[not checked") and "unknownKeyForTheTest" in "\n".join(
            edited
        ), edited

        # A program that never finishes: stopped at the time-out; fixing it recovers.
        shutil.copy(REPO / "Pulumi.prod.yaml", target)
        assert watching.next_run()[-1].startswith("[verdict")
        labels = project / "infra/manifests/labels.py"
        _edit(labels, 'MANAGED_BY = "pulumi"', 'MANAGED_BY = "pulumi"\nwhile True:\n    pass')
        looped = watching.next_run(timeout=240)
        assert looped[-1].startswith("[not checked"), looped
        assert "the program did not finish within 20 s (--timeout)" in "\n".join(looped)
        _edit(labels, "\nwhile True:\n    pass", "")
        assert watching.next_run()[-1].startswith("[verdict")
        assert "Traceback" not in "\n".join(watching.lines)
    finally:
        watching.stop()
