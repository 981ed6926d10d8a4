"""Shared pydantic base and constrained types for stack configuration."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Config section: camelCase keys as Pulumi config uses them, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        hide_input_in_errors=False,
    )


# What each pattern means, in the words an error message should use.
PATTERN_WORDS: dict[str, str] = {}


def pattern(regex: str, words: str) -> StringConstraints:
    PATTERN_WORDS[regex] = words
    return StringConstraints(pattern=regex)


# RFC 1123 label: what Kubernetes accepts for namespace and most object names.
DnsLabel = Annotated[
    str,
    pattern(
        r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        "a DNS label: lowercase letters, digits and '-', at most 63 characters",
    ),
]
LabelKey = Annotated[
    str,
    pattern(
        r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        "a Kubernetes label key: [prefix/]name with letters, digits, '-', '_', '.'",
    ),
]
LabelValue = Annotated[
    str,
    pattern(
        r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$",
        "a Kubernetes label value: at most 63 letters, digits, '-', '_', '.'",
    ),
]
# Kubernetes resource quantity, e.g. 250m, 1.5, 512Mi, 2Gi.
Quantity = Annotated[
    str,
    pattern(
        r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$",
        "a Kubernetes quantity such as 250m, 2, 512Mi or 1Gi",
    ),
]
# Path part of an HTTP route: absolute, no query or fragment.
UrlPath = Annotated[str, pattern(r"^/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$", "an absolute URL path")]
Hostname = Annotated[
    str,
    pattern(
        r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        "a lowercase DNS hostname",
    ),
]
