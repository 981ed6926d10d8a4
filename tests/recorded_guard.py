"""A pytest plugin (loaded by `addopts` in pyproject.toml): only `--record` writes under tests/
(e2e/recorded.py). `pytest --record` rewrites the golden files a test compares with (the
`recording` fixture says when); a session that changed a file under the project's tests/ without
it fails, naming what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e import recorded

_BEFORE = pytest.StashKey[recorded.Snapshot]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record",
        action="store_true",
        help="rewrite the golden files under tests/ from this run instead of comparing",
    )


@pytest.fixture
def recording(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--record"))


def _folder(config: pytest.Config) -> Path:
    return Path(config.rootpath) / "tests"


def pytest_sessionstart(session: pytest.Session) -> None:
    # pytest-xdist's workers share the controller's session: the controller alone compares.
    if not hasattr(session.config, "workerinput"):
        session.config.stash[_BEFORE] = recorded.snapshot(_folder(session.config))


def pytest_sessionfinish(session: pytest.Session) -> None:
    before = session.config.stash.get(_BEFORE, None)
    if before is None or session.config.getoption("--record"):
        return
    wrote = recorded.changes(before, _folder(session.config))
    if wrote:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"tests/ changed without --record: {', '.join(wrote)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
