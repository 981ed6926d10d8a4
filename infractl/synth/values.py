"""Decode the engine's property encoding (secrets, unknowns, resource references) for display."""

from __future__ import annotations

from typing import Any

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SECRET_SHOWN = "[secret]"
UNKNOWN_SHOWN = "[unknown]"


def plain(value: Any, normalise_urn: Any = lambda u: u) -> Any:
    """Engine-encoded value -> JSON-friendly value with secrets masked and numbers made whole."""
    if isinstance(value, dict):
        sig = value.get(SIG)
        if sig == SECRET_SIG:
            return SECRET_SHOWN
        if sig == RESOURCE_SIG:
            return {"$ref": normalise_urn(value.get("urn", ""))}
        if sig == OUTPUT_SIG:
            if value.get("secret"):
                return SECRET_SHOWN
            return plain(value["value"], normalise_urn) if "value" in value else UNKNOWN_SHOWN
        return {k: plain(v, normalise_urn) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v, normalise_urn) for v in value]
    if value == UNKNOWN:
        return UNKNOWN_SHOWN
    # protobuf Struct carries every number as a double.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def engine_encoded(value: Any) -> Any:
    """The inverse of `plain` as far as it goes: shown secrets are secrets again (their value is
    gone, the placeholder stands in) and unknowns unknown, so a pack reading resources.json sees
    what it sees during a synth."""
    if value == SECRET_SHOWN:
        return {SIG: SECRET_SIG, "value": SECRET_SHOWN}
    if value == UNKNOWN_SHOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: engine_encoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_encoded(v) for v in value]
    return value
