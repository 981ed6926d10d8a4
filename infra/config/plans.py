"""Which features a non-public repository can use only with a paid licence: written once, as data.

Public repositories get all of these free. Private and internal ones need the licence, and without
it the feature fails at run time: the workflow step errors, and a *required* check that can never
pass blocks every merge. Sources are GitHub's own pages (read 2026-11; not re-verified here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Licence = Literal["codeSecurity", "secretProtection"]

LICENCE_NAMES: dict[Licence, str] = {
    "codeSecurity": "GitHub Code Security",
    "secretProtection": "GitHub Secret Protection",
}
# The config key (under a repository's settings) that says the licence covers the repository.
LICENCE_FLAGS: dict[Licence, str] = {
    "codeSecurity": "security.codeSecurityLicensed",
    "secretProtection": "security.secretProtectionLicensed",
}


@dataclass(frozen=True)
class Feature:
    name: str
    licence: Licence
    source: str


DEPENDENCY_REVIEW = Feature(
    "dependency review",
    "codeSecurity",
    "https://docs.github.com/en/code-security/supply-chain-security/"
    "understanding-your-software-supply-chain/about-dependency-review",
)
CODE_SCANNING = Feature(
    "code scanning",
    "codeSecurity",
    "https://docs.github.com/en/code-security/code-scanning/introduction-to-code-scanning/"
    "about-code-scanning",
)
SECRET_SCANNING = Feature(
    "secret scanning",
    "secretProtection",
    "https://docs.github.com/en/code-security/secret-scanning/introduction/about-secret-scanning",
)

# Actions (owner/repo[/path], any ref) whose steps use a licensed feature.
ACTION_FEATURES: dict[str, Feature] = {
    "actions/dependency-review-action": DEPENDENCY_REVIEW,
    "github/codeql-action/init": CODE_SCANNING,
    "github/codeql-action/analyze": CODE_SCANNING,
    # Trivy's SARIF results reach GitHub through code scanning too.
    "github/codeql-action/upload-sarif": CODE_SCANNING,
}
# Repository settings (keys under `security`) that switch a licensed feature on.
SETTING_FEATURES: dict[str, Feature] = {"secretScanning": SECRET_SCANNING}


# What of a repository's settings (infra/config/github.py, which imports this module) decides a
# licence.
class _LicenceFlags(Protocol):
    @property
    def code_security_licensed(self) -> bool: ...
    @property
    def secret_protection_licensed(self) -> bool: ...


class Licensable(Protocol):
    @property
    def visibility(self) -> str: ...
    @property
    def security(self) -> _LicenceFlags: ...


def licensed(settings: Licensable, licence: Licence) -> bool:
    if settings.visibility == "public":
        return True
    flags = {
        "codeSecurity": settings.security.code_security_licensed,
        "secretProtection": settings.security.secret_protection_licensed,
    }
    return flags[licence]


def missing_licence(settings: Licensable, feature: Feature) -> str | None:
    """Why `feature` cannot work on this repository (with the fixes), or None when it can."""
    if licensed(settings, feature.licence):
        return None
    return (
        f"{feature.name} needs {LICENCE_NAMES[feature.licence]} on a {settings.visibility} "
        f"repository: set {LICENCE_FLAGS[feature.licence]}: true once the licence covers it"
    )
