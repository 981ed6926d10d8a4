"""Where a secret comes from: an encrypted stack secret, or the environment of `pulumi up`.

Secrets never sit in a stack file in plain text. A `SecretRef` names a key of the
`tbcoin-platform:secrets` map (set with `pulumi config set --secret --path
'tbcoin-platform:secrets.<name>' <value>`) or an environment variable.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import StringConstraints, model_validator

from infra.config.base import Model, SecretName

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class SecretRef(Model):
    # Where a reference belongs, a user may paste the secret itself: errors never quote it.
    reveals_input: ClassVar[bool] = False

    from_secret: SecretName | None = None
    from_env: EnvName | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.from_secret is None) == (self.from_env is None):
            raise ValueError("give exactly one of fromSecret or fromEnv")
        return self

    def describe(self) -> str:
        if self.from_secret is not None:
            return f"stack secret 'tbcoin-platform:secrets.{self.from_secret}'"
        return f"environment variable {self.from_env}"
