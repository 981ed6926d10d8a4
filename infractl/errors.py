"""The one base of every error `infractl` reports to its user (besides config errors)."""

from __future__ import annotations


class InfractlError(Exception):
    """A command that cannot be carried out as asked: `main` prints it on one line and exits
    with `exit_code`, never with a traceback."""

    exit_code = 2


class UsageError(InfractlError):
    """A command line that cannot be carried out (a missing file, a contradictory option)."""
