"""The one error the e2e harness reports: one line, exit 2, with what to do."""

from __future__ import annotations


class HarnessError(Exception):
    """Something the harness cannot do as set up (Go missing, a port taken, a failed build)."""

    exit_code = 2
