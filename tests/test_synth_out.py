"""`infractl synth --out` only ever replaces its own output (issue 18, point 1).

Every refusal runs in a throw-away project under tmp (never this checkout) and must leave every
file in place, exit 2 and say why in one line, before any synth is spent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from infractl.errors import UsageError
from infractl.synth.outdir import MARKER, check_out, replace_output
from tests.conftest import REPO, Run, infractl


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git checkout of a project with its stack file and a source folder, inside tmp."""
    root = tmp_path / "checkout"
    (root / "docs").mkdir(parents=True)
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(REPO / name, root / name)
    (root / "docs" / "notes.md").write_text("keep me\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _one_line_refusal(run: Run) -> str:
    assert run.code == 2, run
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr


@pytest.mark.parametrize(
    ("where", "out"),
    [
        pytest.param(".", lambda root: ".", id="dot"),
        pytest.param(".", lambda root: str(root), id="cwd-absolute"),
        pytest.param(".", lambda root: "..", id="parent"),
        pytest.param(".", lambda root: "docs/..", id="cwd-through-subfolder"),
        pytest.param("docs", lambda root: str(root.parent), id="grandparent-of-a-subfolder"),
        pytest.param("docs", lambda root: str(root), id="project-from-a-subfolder"),
    ],
)
def test_the_current_folder_and_its_parents_are_refused(
    project: Path, where: str, out: Callable[[Path], str]
) -> None:
    # Every case stays inside tmp_path (project.parent), even if the guard were broken.
    whole = project.parent
    before = _snapshot(whole)
    run = infractl("synth", "--stack", "staging", "--out", out(project), cwd=project / where)
    assert "is the current folder or one of its parents" in _one_line_refusal(run)
    assert _snapshot(whole) == before
    assert (project / ".git" / "HEAD").is_file()


def test_root_is_refused_with_every_destructive_call_disabled(project: Path) -> None:
    # Even a broken guard cannot delete anything here: rmtree, rename and mkdtemp all raise.
    sandbox = textwrap.dedent(
        """
        import os, shutil, sys, tempfile
        def refuse(*args, **kwargs):
            raise PermissionError("destructive call blocked by the test")
        shutil.rmtree = os.rename = os.replace = tempfile.mkdtemp = refuse
        from infractl.cli import main
        sys.exit(main(["synth", "--stack", "staging", "--out", "/"]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", sandbox], cwd=project, capture_output=True, text=True, timeout=300
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr)
    assert "--out /: is the current folder or one of its parents" in _one_line_refusal(run)


def test_a_source_folder_in_the_checkout_is_refused(project: Path) -> None:
    before = _snapshot(project)
    run = infractl("synth", "--stack", "staging", "--out", "docs", cwd=project)
    assert f"is a folder that is not empty and has no {MARKER} marker" in _one_line_refusal(run)
    assert _snapshot(project) == before


@pytest.mark.parametrize("marker", ["", "Written by `infractl synth`.\n"], ids=["touched", "other"])
def test_a_marker_does_not_make_a_source_folder_output(project: Path, marker: str) -> None:
    """Issue 24: `touch docs/.infractl-synth; infractl synth --out docs` deleted tracked files."""
    (project / "docs" / MARKER).write_text(marker)
    before = _snapshot(project)
    run = infractl("synth", "--stack", "staging", "--out", "docs", cwd=project)
    assert f"--out docs: holds a {MARKER} that synth did not write" in _one_line_refusal(run)
    assert _snapshot(project) == before


def test_a_file_added_to_an_earlier_output_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    replace_output(out, {"resources.json": "[]\n"}, cwd=tmp_path)
    (out / "notes.md").write_text("mine\n")
    with pytest.raises(UsageError, match=r"holds 'notes\.md', which synth did not write"):
        replace_output(out, {"resources.json": "[]\n"}, cwd=tmp_path)
    assert (out / "notes.md").read_text() == "mine\n"


@pytest.mark.parametrize("name", ["out\nWritten to /etc", "out\u2028x", "out\x85", "out\u202ex"])
def test_an_out_name_with_a_control_character_is_refused(project: Path, name: str) -> None:
    run = infractl("synth", "--stack", "staging", "--out", name, cwd=project)
    assert "a folder name with a control character" in _one_line_refusal(run)
    assert not any(p.name.startswith("out") for p in project.iterdir())


def test_git_metadata_is_refused(project: Path) -> None:
    run = infractl("synth", "--stack", "staging", "--out", ".git", cwd=project)
    _one_line_refusal(run)
    assert (project / ".git" / "HEAD").is_file()


def test_a_non_empty_folder_without_the_marker_is_refused(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"\xff\xd8")
    run = infractl("synth", "--stack", "staging", "--out", other, cwd=project)
    assert "has no .infractl-synth marker" in _one_line_refusal(run)
    assert (other / "holiday.jpg").read_bytes() == b"\xff\xd8"


def test_a_file_is_refused(project: Path) -> None:
    run = infractl("synth", "--stack", "staging", "--out", "Pulumi.staging.yaml", cwd=project)
    assert "is a file, not a folder" in _one_line_refusal(run)
    assert (project / "Pulumi.staging.yaml").read_bytes() == (
        REPO / "Pulumi.staging.yaml"
    ).read_bytes()


def test_a_symbolic_link_is_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(project / "docs")
    run = infractl("synth", "--stack", "staging", "--out", tmp_path / "link", cwd=project)
    assert "is a symbolic link" in _one_line_refusal(run)
    assert (project / "docs" / "notes.md").is_file()


@pytest.mark.parametrize(
    ("parent", "why"),
    [
        ("missing/deeper", "parent folder {p}/missing/deeper does not exist"),
        ("Pulumi.yaml", "parent folder {p}/Pulumi.yaml is not a folder"),
    ],
)
def test_a_missing_or_file_parent_is_one_line(project: Path, parent: str, why: str) -> None:
    run = infractl("synth", "--stack", "staging", "--out", f"{parent}/out", cwd=project)
    assert why.format(p=project.resolve()) in _one_line_refusal(run)
    assert not (project / "missing").exists()


def test_a_parent_nobody_may_write_to_is_one_line(project: Path) -> None:
    # sysfs refuses new entries even to root, so this holds however the suite is run.
    run = infractl("synth", "--stack", "staging", "--out", "/sys/infractl-out", cwd=project)
    assert "cannot write in /sys" in _one_line_refusal(run)


def test_a_name_the_file_system_cannot_hold_is_one_line(project: Path) -> None:
    run = infractl("synth", "--stack", "staging", "--out", "x" * 300, cwd=project)
    assert "File name too long" in _one_line_refusal(run)


def test_a_read_only_parent_is_one_line(project: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.geteuid() == 0:
        pytest.skip("root ignores file modes; the /sys case covers root")
    run = infractl("synth", "--stack", "staging", "--out", locked / "out", cwd=project)
    assert "cannot write in" in _one_line_refusal(run)


def test_an_earlier_output_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    replace_output(out, {"a/old.yaml": "old\n", "keep.json": "1\n"}, cwd=tmp_path)
    assert (out / MARKER).is_file()
    replace_output(out, {"keep.json": "2\n"}, cwd=tmp_path)
    assert _snapshot(out) == {"keep.json": b"2\n", MARKER: (out / MARKER).read_bytes()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


def test_an_empty_or_new_folder_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert check_out(Path("empty"), cwd=tmp_path) == (tmp_path / "empty").resolve()
    assert check_out(Path("new"), cwd=tmp_path) == (tmp_path / "new").resolve()


def test_a_real_synth_leaves_the_marker(synthesized: Callable[[str], Path]) -> None:
    out = synthesized("staging")
    assert (out / MARKER).is_file()
    assert check_out(out, cwd=REPO) == out.resolve()


WRITER = """
import sys
from pathlib import Path
from infractl.synth.outdir import replace_output
out, me = Path(sys.argv[1]), sys.argv[2]
files = {f"f{i}.txt": me * 200 for i in range(40)}
for _ in range(40):
    replace_output(out, files, cwd=out.parent)
"""


def test_concurrent_writers_take_turns(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(out), me],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in "ab"
    ]
    results = [(w.wait(timeout=120), w.stderr.read() if w.stderr else "") for w in writers]
    assert results == [(0, ""), (0, "")]
    contents = {p.read_text() for p in out.glob("f*.txt")}
    assert len(contents) == 1 and len(list(out.glob("f*.txt"))) == 40  # one writer's whole set
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _amid_a_marker_read(
    monkeypatch: pytest.MonkeyPatch,
    before: Callable[[], None],
    after: Callable[[], None],
    *,
    locked: bool = False,
) -> None:
    """Run `before` and `after` around one marker read: the first (the check outside the parent
    lock) or, `locked`, the second (the check under it). Where a concurrent synth's swap broke
    test_concurrent_writers_take_turns on a loaded machine."""
    from infra.config import documents

    read = documents.read_bounded
    passes = 1 if locked else 0

    def read_amid_a_swap(path: Path, max_bytes: int) -> bytes:
        nonlocal passes
        if passes:
            passes -= 1
            return read(path, max_bytes)
        monkeypatch.setattr(documents, "read_bounded", read)
        before()
        try:
            return read(path, max_bytes)
        finally:
            after()

    monkeypatch.setattr(documents, "read_bounded", read_amid_a_swap)


@pytest.mark.parametrize(
    "half_swapped", [True, False], ids=["marker-gone", "marker-of-older-output"]
)
def test_an_output_swapped_while_checked_is_left_to_the_check_under_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, half_swapped: bool
) -> None:
    out, aside = tmp_path / "out", tmp_path / ".out.old"
    replace_output(out, {"old.txt": "1"}, cwd=tmp_path)

    def move_aside() -> None:  # a concurrent synth's swap, halfway: its old output moved aside
        if half_swapped:
            out.rename(aside)

    def concurrent_synth() -> None:
        replace_output(out, {"new.txt": "2"}, cwd=tmp_path)
        shutil.rmtree(aside, ignore_errors=True)

    _amid_a_marker_read(monkeypatch, move_aside, concurrent_synth)
    replace_output(out, {"mine.txt": "3"}, cwd=tmp_path)
    assert _snapshot(out) == {"mine.txt": b"3", MARKER: _snapshot(out)[MARKER]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_check_under_the_lock_refuses_a_folder_swapped_in_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a synth takes the lock: what anyone else does meanwhile is refused, never deleted."""
    out = tmp_path / "out"
    replace_output(out, {"old.txt": "1"}, cwd=tmp_path)

    def someone_puts_a_source_folder_there() -> None:
        out.rename(tmp_path / "moved")
        out.mkdir()
        (out / "notes.md").write_text("keep me\n")

    _amid_a_marker_read(monkeypatch, lambda: None, someone_puts_a_source_folder_there, locked=True)
    with pytest.raises(UsageError, match=r"holds 'notes\.md', which synth did not write"):
        replace_output(out, {"mine.txt": "3"}, cwd=tmp_path)
    assert _snapshot(out) == {"notes.md": b"keep me\n"}
