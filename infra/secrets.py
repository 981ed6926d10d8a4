"""Resolve a `SecretRef` into a secret Output, never into a plain value in state or logs."""

from __future__ import annotations

import os

import pulumi

from infra.config.model import StackConfig
from infra.config.secrets import SecretRef

# Set by `infractl synth`: secrets cannot be read offline and are shown as a placeholder.
OFFLINE_ENV = "TBCOIN_OFFLINE_SYNTH"
PLACEHOLDER = "[secret]"


class MissingSecret(Exception):
    pass


def resolve_secret(config: StackConfig, ref: SecretRef, used_for: str) -> pulumi.Output[str]:
    value: str | None
    if ref.from_secret is not None:
        value = config.secrets.get(ref.from_secret)
    else:
        value = os.environ.get(ref.from_env or "")
    if value is None:
        if os.environ.get(OFFLINE_ENV) == "1":
            value = PLACEHOLDER
        else:
            raise MissingSecret(f"{used_for}: {ref.describe()} is not set")
    return pulumi.Output.secret(value)
