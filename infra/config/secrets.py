"""Where a secret comes from: an encrypted stack secret, or the environment of `pulumi up`.

Secrets never sit in a stack file in plain text. A `SecretRef` names a key of the
`tbcoin-platform:secrets` map (set with `pulumi config set --secret --path
'tbcoin-platform:secrets.<name>' <value>`) or an environment variable.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from infra.config.base import Model, SecretName

# The credentials of the engine and of CI themselves: the stack's passphrase, the backend and
# deploy tokens, the runner's and the cloud login's. A `fromEnv` naming one would copy the key to
# every secret of the stack (or the token that can push to the repository) into a cluster Secret.
RESERVED_ENV_PREFIXES = ("PULUMI_", "GITHUB_", "ACTIONS_", "RUNNER_")
RESERVED_ENV = frozenset({
    "GH_TOKEN", "GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CREDENTIALS", "KUBECONFIG",
})  # fmt: skip


def _not_reserved(name: str) -> str:
    if name in RESERVED_ENV or name.startswith(RESERVED_ENV_PREFIXES):
        raise ValueError(
            f"must not be {name}, a credential of the engine or CI itself (the stack's "
            "passphrase, the deploy or backend token, the runner's or cloud login's); give this "
            "secret a variable of its own, or use fromSecret"
        )
    return name


EnvName = Annotated[
    str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$"), AfterValidator(_not_reserved)
]


class SecretRef(Model):
    # Where a reference belongs, a user may paste the secret itself: errors never quote it.
    reveals_input: ClassVar[bool] = False

    from_secret: SecretName | None = Field(
        None, description="A key of tbcoin-platform:secrets (an encrypted stack secret)."
    )
    from_env: EnvName | None = Field(
        None, description="An environment variable of the machine that runs `pulumi up`."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.from_secret is None) == (self.from_env is None):
            raise ValueError("give exactly one of fromSecret or fromEnv")
        return self

    def describe(self) -> str:
        if self.from_secret is not None:
            return f"stack secret 'tbcoin-platform:secrets.{self.from_secret}'"
        return f"environment variable {self.from_env}"
