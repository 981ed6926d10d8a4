"""`infractl synth --out` (and `adopt --out`): the only folder a writer may replace is one it wrote
itself. `adopt` replaces even its own folder only when told (`--force`).

A folder is synth's own when it is new, empty, or carries the marker file an earlier synth left.
Everything else (the current folder or a parent of it, so `/` and the project too; a source folder
or any other non-empty folder without the marker; a file; a symbolic link) is refused before
anything is synthesized, and once more under the lock just before the swap, so nothing is ever
deleted that synth did not write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from infractl.errors import UsageError

MARKER = ".infractl-synth"
# A marker lists the files its writer wrote (a few hundred names); one larger is none of ours.
MARKER_MAX_BYTES = 1 << 20


def marker_text(writer: str) -> str:
    return (
        f"Written by `infractl {writer}`. The next {writer} with --out pointing here replaces this "
        "whole\nfolder; keep nothing else in it. The files it wrote:\n"
    )


# How long a second synth into the same parent folder waits for the first to finish its swap.
LOCK_WAIT_SECONDS = 60.0


def _refuse(out: Path, why: str, writer: str) -> UsageError:
    return UsageError(f"--out {out}: {why}; {writer} only replaces a folder it wrote itself")


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, *, cwd: Path, writer: str = "synth", replace: bool = True) -> Path:
    """The absolute output folder if `writer` may (re)place it; UsageError (exit 2) otherwise.
    `replace=False`: an existing folder that is not empty is refused even if the writer's own.
    (The project is the current folder or one of its parents: see `find_project`.)"""
    return _check(out, cwd, writer, replace, locked=False)


def _check(out: Path, cwd: Path, writer: str, replace: bool, *, locked: bool) -> Path:
    try:
        return _checked(out, cwd, writer, replace, locked)
    except OSError as exc:  # e.g. a name too long for the file system
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None


def _checked(out: Path, cwd: Path, writer: str, replace: bool, locked: bool) -> Path:
    from infra.config.base import control_character

    found = control_character(str(out))
    if found is not None:  # it would be printed in the summary, splitting or hiding a line
        raise UsageError(
            f"--out {str(out)!r}: a folder name with a control character (U+{ord(found):04X}) "
            "is refused; name it in plain text"
        )
    if (cwd / out).is_symlink():
        raise _refuse(out, "is a symbolic link", writer)
    target = Path(os.path.abspath(cwd / out)).resolve()
    if _contains(target, cwd.resolve()):
        raise _refuse(out, "is the current folder or one of its parents", writer)
    parent = target.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise UsageError(f"--out {out}: parent folder {parent} {what}")
    try:  # a read-only parent fails here, before a synth is spent on it
        os.rmdir(tempfile.mkdtemp(prefix=f".{target.name}.probe-", dir=parent))
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write in {parent}: {exc.strerror}") from None
    try:  # held open while we look, so its inode number cannot pass to a newer folder
        fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return target
    except NotADirectoryError:
        raise _refuse(out, "is a file, not a folder", writer) from None
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot read it: {exc.strerror}") from None
    try:
        _only_own_folder(out, target, writer, replace)
    except UsageError:
        # Outside the lock a concurrent synth may swap the folder while we read it (marker from
        # one generation, files from another, the marker or the folder gone): then this verdict
        # is about no folder at all, and the check under the lock just before the swap decides.
        if locked or _is_open_folder(fd, target):
            raise
    finally:
        os.close(fd)
    return target


def _is_open_folder(fd: int, target: Path) -> bool:
    try:
        now = os.stat(target)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _only_own_folder(out: Path, target: Path, writer: str, replace: bool) -> None:
    try:
        entries = {p.name for p in target.iterdir()}
        if entries and not replace:
            raise UsageError(f"--out {out}: exists and is not empty; pass --force to replace it")
        if entries and MARKER not in entries:
            raise _refuse(out, f"is a folder that is not empty and has no {MARKER} marker", writer)
        if entries:
            _only_own_files(out, target, writer)
    except FileNotFoundError:
        pass  # swapped away by a concurrent synth: a new folder now
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot read it: {exc.strerror}") from None


def _only_own_files(out: Path, target: Path, writer: str) -> None:
    """The marker vouches only for the files it lists (the ones the writer wrote): `touch
    docs/.infractl-synth` must not turn a source folder into output to be replaced."""
    from infra.config.documents import DocumentError, read_bounded

    own = marker_text(writer)
    try:  # a FIFO or device named like the marker is refused, never waited on
        text = read_bounded(target / MARKER, MARKER_MAX_BYTES).decode("utf-8", errors="replace")
    except DocumentError as exc:
        raise _refuse(out, f"its {MARKER} {exc}", writer) from None
    present = {
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if not p.is_dir() or p.is_symlink()
    }
    if not text.startswith(own):
        raise _refuse(out, f"holds a {MARKER} that {writer} did not write", writer)
    foreign = sorted(present - {MARKER} - set(text[len(own) :].splitlines()))
    if foreign:
        raise _refuse(out, f"holds {foreign[0]!r}, which {writer} did not write", writer)


@contextlib.contextmanager
def _parent_lock(out: Path, target: Path, writer: str) -> Iterator[None]:
    """Hold an exclusive lock on the parent folder: concurrent synths into it take turns."""
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UsageError(
                        f"--out {out}: another infractl {writer} has been writing into "
                        f"{target.parent} for {LOCK_WAIT_SECONDS:.0f} s; try again later"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _write_files(folder: Path, files: dict[str, str], writer: str) -> None:
    marker = marker_text(writer) + "".join(f"{rel}\n" for rel in sorted(files))
    for rel, content in sorted({**files, MARKER: marker}.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def replace_output(
    out: Path, files: dict[str, str], *, cwd: Path, writer: str = "synth", replace: bool = True
) -> None:
    """Replace `out` with exactly these files (plus the marker). A refusal or failure leaves the
    previous output untouched; a write error is one line (UsageError), never a traceback."""
    target = check_out(out, cwd=cwd, writer=writer, replace=replace)
    try:
        with _parent_lock(out, target, writer):
            _check(out, cwd, writer, replace, locked=True)  # another may have been first
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
            try:
                _write_files(staging, files, writer)
                _swap(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
        raise UsageError(f"--out {out}: cannot write it: {reason}") from None


def _swap(staging: Path, target: Path) -> None:
    """Move the previous output aside, the new one in, then delete the previous one."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old)  # replaces the empty placeholder folder
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
