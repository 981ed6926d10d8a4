"""The repository stands alone: every vendored file is accounted for, nothing reaches out."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, VENDOR

sys.path.insert(0, str(VENDOR))
import manifest  # vendor/manifest.py is a script, not a package

FOLDERS = manifest.folders()


def rows(folder_sources: str) -> dict[str, tuple[int, str]]:
    _, table = manifest.split(folder_sources)
    found = re.findall(r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$", table, flags=re.M)
    return {path: (int(size), digest) for path, size, digest in found}


def test_every_vendored_folder_is_listed() -> None:
    names = {folder.name for folder in FOLDERS}
    assert {"pulumi-engine-outputs", "pulumi-schema", "crds", "helm-charts"} <= names
    readme = (VENDOR / "README.md").read_text()
    assert all(f"`{name}/`" in readme for name in names), "vendor/README.md lacks a folder"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_sources_names_each_file_and_each_row_is_a_file(folder) -> None:  # type: ignore[no-untyped-def]
    sources = folder / "SOURCES.md"
    assert sources.exists(), f"{folder.name}/ has no SOURCES.md"
    text = sources.read_text()
    prose, _ = manifest.split(text)
    assert "Refresh" in prose, f"{folder.name}/SOURCES.md says not how to refresh"
    listed = rows(text)
    on_disk = {p.relative_to(folder).as_posix() for p in manifest.vendored_files(folder)}
    assert on_disk - set(listed) == set(), f"files without a source row in {folder.name}/SOURCES.md"
    assert set(listed) - on_disk == set(), f"source rows without a file in {folder.name}/SOURCES.md"
    actual = rows(manifest.table(folder))
    changed = sorted(p for p in listed if p in actual and listed[p] != actual[p])
    assert changed == [], f"size or sha256 differs from SOURCES.md in {folder.name}/"


def test_manifest_check_fails_on_an_unlisted_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The check can fail: a copy of vendor/ with one extra file is reported stale."""
    copy = tmp_path / "vendor"
    subprocess.run(["cp", "-r", str(VENDOR), str(copy)], check=True)
    (copy / "licenses" / "EXTRA").write_text("x")
    run = subprocess.run(
        [sys.executable, str(copy / "manifest.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 1 and "vendor/licenses/SOURCES.md" in run.stdout


OUTSIDE = re.compile(r"\.\./shared|TBCOIN_SHARED_DIR|/work/|(?<![\w.])\.\./\.\.")


def test_nothing_refers_to_a_path_outside_the_repository() -> None:
    tracked = subprocess.run(
        [
            "git",
            "ls-files",
            "tests",
            ".ci",
            "Makefile",
            "infra",
            "infractl",
            "scorecard",
            "policies",
            "bench",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = [
        path
        for path in tracked
        if path != "tests/test_vendor.py"
        and OUTSIDE.search((REPO / path).read_text(errors="replace"))
    ]
    assert offenders == []


def test_no_tracked_symlink_leaves_the_repository() -> None:
    listing = subprocess.run(
        ["git", "ls-files", "-s"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    links = [line.split("\t", 1)[1] for line in listing.splitlines() if line.startswith("120000")]
    outside = [link for link in links if not (REPO / link).resolve().is_relative_to(REPO.resolve())]
    assert outside == [], "tracked symlinks pointing outside the repository"
