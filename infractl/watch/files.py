"""Which saves `check --watch` acts on, and how it learns of them (watchfiles, on inotify).

A change is one of three kinds: the stack's settings or its policy config (run again), the
program's sources under `infra/` (a new program worker, then run), the pack's sources under
`policies/` (a new pack process, then run). Folders are watched one by one, not recursively:
a recursive watch of the project would follow `.venv`, `.tools` and the output the loop itself
writes. Editors that save by writing a new file and renaming it over the old one are seen too,
since the folder is watched, not the file.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path

CONFIG, PROGRAM, PACK = "config", "program", "pack"
# What the program reads from infra/ besides its modules (e.g. allowed_actions.yaml); files
# without a suffix are editors' probes (vim's `4913`) and backups.
PROGRAM_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".txt")
# After the first event, wait until this long has passed without another before running: an
# editor's save is several events (write a temporary file, rename it, remove the backup).
QUIET_MS = 20


def _under(path: Path, folder: Path) -> bool:
    return folder in path.parents


@dataclass(frozen=True)
class Watched:
    stack_file: Path
    policy_config: Path
    program: Path  # infra/
    pack: Path  # policies/
    waivers: Path  # policies/waivers/<stack>.json

    @classmethod
    def of(cls, project: Path, stack_file: Path, policy_config: Path, waivers: Path) -> Watched:
        return cls(
            stack_file.absolute(),
            policy_config.absolute(),
            project / "infra",
            project / "policies",
            waivers.absolute(),
        )

    def configs(self) -> set[Path]:
        """The settings files as named and as they resolve now: a file replaced by a symbolic
        link (or a link pointed elsewhere) is followed from the next save on."""
        return {
            p for f in (self.stack_file, self.policy_config, self.waivers) for p in (f, f.resolve())
        }

    def kind(self, name: str) -> str | None:
        path = Path(name)
        if path in self.configs():
            return CONFIG
        if "__pycache__" in path.parts:
            return None
        if _under(path, self.program) and path.suffix in PROGRAM_SUFFIXES:
            return PROGRAM
        source = path.suffix == ".py" or path.name == "PulumiPolicy.yaml"
        if source and _under(path, self.pack) and not _under(path, self.pack / "venv"):
            return PACK
        return None

    def folders(self) -> list[Path]:
        sources = [
            folder
            for top in (self.program, self.pack)
            for folder in [top, *top.rglob("*")]
            if folder.is_dir()
            and "__pycache__" not in folder.parts
            and not (folder == self.pack / "venv" or _under(folder, self.pack / "venv"))
        ]
        configs = [path.parent for path in self.configs() if path.parent.is_dir()]
        return sorted(set(sources + configs))


class Watcher:
    """Watches the folders in a thread of its own (the main thread stays free for the stop
    signals); `wait` returns the paths saved since the last call, blocking until there is one."""

    def __init__(self, watched: Watched) -> None:
        self._watched = watched
        self._changes: queue.Queue[set[str] | BaseException] = queue.Queue()
        self._stop = threading.Event()
        self._folders = watched.folders()
        self._thread = self._thread_for(self._folders, self._stop)

    def _thread_for(self, folders: list[Path], stop: threading.Event) -> threading.Thread:
        return threading.Thread(
            target=self._watch, args=(folders, stop), name="watchfiles", daemon=True
        )

    def follow(self) -> None:
        """Watch the folders the watched files are in now, if they have moved (a settings file
        replaced by a link into another folder)."""
        folders = self._watched.folders()
        if folders == self._folders:
            return
        self._stop.set()
        self._thread.join()
        self._folders, self._stop = folders, threading.Event()
        self._thread = self._thread_for(folders, self._stop)
        self._thread.start()

    def _watch(self, folders: list[Path], stop: threading.Event) -> None:
        import watchfiles

        try:
            for changes in watchfiles.watch(
                *folders,
                watch_filter=lambda _change, path: self._watched.kind(path) is not None,
                step=QUIET_MS,
                stop_event=stop,
                recursive=False,
            ):
                self._changes.put({path for _, path in changes})
        except BaseException as exc:  # the main thread reports it; this one only watches
            self._changes.put(exc)

    def wait(self) -> set[str]:
        paths: set[str] = set()
        block = True
        while True:
            try:
                item = self._changes.get(block=block)
            except queue.Empty:
                return paths
            if isinstance(item, BaseException):
                from infractl.errors import InfractlError

                raise InfractlError(f"watching the sources failed: {item}") from item
            paths |= item
            block = False  # then take whatever else is queued: one run for all of it

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
