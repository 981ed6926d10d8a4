"""What a credential looks like: a key whose name says so (`names`), or text whose shape says so
(`detector`, on detect-secrets). The one rule for the config, every printer and the pack.

`redact` is what everything the tools print or post goes through.
"""

from __future__ import annotations

from secret_patterns.names import is_credential_name

__all__ = ["is_credential_name", "redact", "token_format"]


# The detector is imported on first use: the pack imports this package for `is_credential_name`
# alone, and its requirements (policies/requirements.txt) hold no detect-secrets.
def redact(text: str) -> str:
    """`text` with every part shaped like a credential replaced by `[redacted]`."""
    from secret_patterns.detector import redact as redact_shapes

    return redact_shapes(text)


def token_format(text: str) -> str | None:
    """The kind of credential `text` holds in a well-known format (`GitHub Token`), if any."""
    from secret_patterns.detector import token_format as format_of

    return format_of(text)
