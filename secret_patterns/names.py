"""Which keys name a credential: the one rule for the config, drift severity and the pack.

Standard library only: the pack (policies/requirements.txt) imports this module.
"""

from __future__ import annotations

import re

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
