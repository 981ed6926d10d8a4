"""The one base of every error a user can cause and fix (bad config, a command that cannot be
carried out as asked): reported in its own words, never with a traceback, exiting `exit_code`.
Imports nothing, so a command that never reads config can catch it for free."""

from __future__ import annotations


class UserError(Exception):
    exit_code = 2

    def report(self) -> str:
        """What the user reads on stderr."""
        return f"infractl: {self}"
