"""The errors `infractl` itself reports to its user; config errors share their base."""

from __future__ import annotations

from infra.config.user_error import UserError


class InfractlError(UserError):
    """A command that cannot be carried out as asked: `main` prints it on one line and exits
    with `exit_code`, never with a traceback."""


class UsageError(InfractlError):
    """A command line that cannot be carried out (a missing file, a contradictory option)."""
