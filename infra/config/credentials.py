"""Plain-text credentials in stack config: found by key name, by value format, at any depth.

Run on the raw stack file (where `secure:` nodes are visible, so the check is exact) and on the
config the engine hands the program (where a key with any encrypted part is secret as a whole).
Findings name the key path and the kind of credential, never the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from infra.config.documents import DocumentError, parse_json, parse_yaml
from infra.config.errors import NAMESPACE, ConfigProblem
from secret_patterns import is_credential_name, token_format

# A string this long is not parsed as a document that might hold credentials.
_DOCUMENT_LIMIT = 256 * 1024
SECRETS_KEY = "secrets"


def _embedded_document(text: str) -> Any:
    """A mapping or list serialized into a string (a kubeconfig pasted into config), else None."""
    if len(text) > _DOCUMENT_LIMIT or not (text.lstrip()[:1] in ("{", "[") or "\n" in text):
        return None
    try:
        document = parse_json(text)
    except DocumentError:
        try:
            document = parse_yaml(text)
        except DocumentError:
            return None
    return document if isinstance(document, dict | list) else None


def _findings(key: str, value: Any, is_secure: Callable[[Any], bool]) -> Iterator[tuple[str, str]]:
    seen: set[int] = set()  # YAML aliases share nodes: visit each once, however often referenced

    def walk(path: str, name: str, node: Any) -> Iterator[tuple[str, str]]:
        if is_secure(node) or isinstance(node, bool) or node is None:
            return
        if isinstance(node, dict | list):
            if id(node) in seen:
                return
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for k, v in items:
                sub = f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}"
                yield from walk(sub, name if isinstance(node, list) else str(k), v)
            return
        text = str(node)
        if text and is_credential_name(name):
            yield path, "a credential"
            return
        kind = token_format(text)
        if kind:
            yield path, f"a credential ({kind})"
            return
        document = _embedded_document(text) if isinstance(node, str) else None
        if document is not None:
            yield from walk(path, name, document)

    yield from walk(key, key, value)


def credential_problems(
    full_key: str, value: Any, is_secure: Callable[[Any], bool]
) -> list[ConfigProblem]:
    """Every plain-text credential under one top-level config key, in any namespace."""
    namespace, _, key = full_key.partition(":")

    def encrypt(path: str, what: str) -> ConfigProblem:
        return ConfigProblem(
            path,
            f"{what}; store it encrypted with "
            f"`pulumi config set --secret --path '{namespace}:{path}' <value>`",
            namespace,
        )

    if namespace == NAMESPACE and key == SECRETS_KEY:
        if is_secure(value):
            return []
        if not isinstance(value, dict):
            return [ConfigProblem(key, "must be a mapping of name -> encrypted value")]
        return [
            encrypt(f"{key}.{name}", "takes encrypted values only (`secure:`)")
            for name, item in value.items()
            if not is_secure(item)
        ]
    return [
        encrypt(path, f"looks like {kind} in plain text")
        for path, kind in _findings(key, value, is_secure)
    ]
