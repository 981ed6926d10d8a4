"""What a credential looks like: a key whose name says so, or a value in a well-known format.

The one such rule for the config, drift severity and the policy pack alike; standard library only,
so the pack (policies/requirements.txt) imports it too.
"""

from __future__ import annotations

import re

_START = r"(?<![A-Za-z0-9])"  # not in the middle of a longer word
# Prefixes and shapes documented by their issuers.
TOKEN_FORMATS: dict[str, re.Pattern[str]] = {
    name: re.compile(regex)
    for name, regex in {
        "a GitHub token": _START + r"(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
        "an AWS access key id": _START + r"(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])",
        "a Slack token": _START + r"xox[abposre]-[A-Za-z0-9-]{10,}",
        "a Slack webhook URL": r"hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/_-]+",
        "a private key": r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----",
        "a Google API key": _START + r"AIza[0-9A-Za-z_-]{35}",
        "a GitLab token": _START + r"glpat-[0-9A-Za-z_-]{20,}",
        "an npm token": _START + r"npm_[A-Za-z0-9]{36}",
        "a PyPI token": _START + r"pypi-AgE[A-Za-z0-9_-]{50,}",
        "a Stripe key": _START + r"[rs]k_live_[0-9A-Za-z]{20,}",
        "a JSON Web Token": _START + r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}",
        "a password in a URL": r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@",
    }.items()
}


def token_format(text: str) -> str | None:
    """What kind of credential `text` holds, if it holds a well-known token format."""
    for name, regex in TOKEN_FORMATS.items():
        if regex.search(text):
            return name
    return None


def redact(text: str) -> str:
    """`text` with every well-known token replaced, for messages that quote user input."""
    for regex in TOKEN_FORMATS.values():
        text = regex.sub("[redacted]", text)
    return text


# A key names a credential by its last word or its last two (`apiKey`, `private_key`,
# `access-key`; `client-key-data` in a kubeconfig).
_CREDENTIAL_WORDS = {
    "password", "passwd", "passphrase", "pwd", "secret", "token", "credential", "credentials",
    "secrets", "apikey", "privatekey", "accesskey", "secretkey", "pat", "dsn", "webhook",
    "webhookurl",
}  # fmt: skip
_CREDENTIAL_PAIRS = {
    ("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"),
    ("signing", "key"), ("encryption", "key"), ("routing", "key"), ("integration", "key"),
    ("service", "key"), ("client", "key"), ("ssh", "key"), ("deploy", "key"), ("master", "key"),
    ("license", "key"), ("webhook", "url"), ("key", "data"), ("auth", "token"),
}  # fmt: skip
# Names that say where a secret lives are not one (`passwordKey`, `tokenSecretRef`, `apiKeyEnv`,
# `fromSecret`, `existingSecret`): their last word is not a credential word, or they start so.
_REFERENCE_FIRST = {"from", "existing"}
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_credential_name(key: str) -> bool:
    words = [w.lower() for w in _WORD.findall(key)]
    if not words or words[0] in _REFERENCE_FIRST:
        return False
    return tuple(words[-2:]) in _CREDENTIAL_PAIRS or words[-1] in _CREDENTIAL_WORDS
