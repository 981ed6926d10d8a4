"""Text from the cluster, the engine, a program or a config, made safe for a terminal.

Everything `infractl` writes to its stdout and stderr goes through `safe` (`guarded_output` puts it
on both streams for the whole command): credentials are redacted (secret_patterns) and no control
character reaches the terminal raw, so a Rollout's `status.message` cannot clear the screen, set
the window title, move the cursor, rewrite a line with `\\r` or reorder text with a bidirectional
override. Such characters are shown as `\\uXXXX`: visible, and still valid inside a JSON string.
Markdown for GitHub has its own rules (infractl.markdown).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from infractl.markdown import INVISIBLE
from secret_patterns import redact

# C0 controls but tab and newline, DEL, and what acts instead of showing (C1, bidi).
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f{INVISIBLE}]")


def inert(text: str) -> str:
    """`text` with every control character shown as its `\\uXXXX` escape."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def safe(text: str) -> str:
    """What may be printed of `text`: redacted, then inert."""
    return inert(redact(text))


class _Guarded:
    """A text stream that writes what `safe` leaves of each write to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(safe(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, buffer…
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_output() -> Iterator[None]:
    """Within: every write to sys.stdout and sys.stderr goes through `safe`."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Guarded(sys.stdout), _Guarded(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
