"""Shared pydantic base and constrained types for stack configuration."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Config section: camelCase keys as Pulumi config uses them, unknown keys rejected, strict
    types (`replicas: true` or `enabled: "yes"` is an error, not 1 or True)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        hide_input_in_errors=False,
        strict=True,
    )


def _decimal(value: Any) -> Any:
    # `pulumi config set --path` stores integers and booleans typed but decimals as strings.
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return float(value)
    return value


# A number: an integer, a float, or a decimal as `pulumi config set --path` writes it; no bools.
Number = Annotated[float, BeforeValidator(_decimal)]


# What each pattern means, in the words an error message should use.
PATTERN_WORDS: dict[str, str] = {}


def pattern(regex: str, words: str, max_length: int | None = None) -> StringConstraints:
    PATTERN_WORDS[regex] = words
    return StringConstraints(pattern=regex, max_length=max_length)


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
        r"^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$",
        "a lowercase DNS hostname, each label at most 63 characters",
        max_length=253,
    ),
]

# A key of `tbcoin-platform:secrets`, as `fromSecret` names it.
SecretName = Annotated[
    str, pattern(r"^[A-Za-z0-9_.-]{1,100}$", "a secret name: letters, digits, _ . -")
]
# What "no control characters" means wherever a string may carry none: Unicode's controls (Cc:
# C0, DEL and C1 such as U+0085 NEL), format characters (Cf: bidi overrides, zero-width ones),
# the line and paragraph separators (Zl U+2028, Zp U+2029) and lone surrogates (Cs). Each can end
# a line for some reader (YAML, JavaScript, editors) or make text read other than it is.
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def control_character(text: str) -> str | None:
    """The first control character in `text` (as defined above), if any."""
    return next((c for c in text if unicodedata.category(c) in CONTROL_CATEGORIES), None)


def _one_line(text: str) -> str:
    found = control_character(text)
    if found is not None:
        raise ValueError(
            f"must be one line of text without control characters (found U+{ord(found):04X})"
        )
    return text


# Free text that reaches a file or an API field: one line, no control characters. (The pattern
# states it for the ASCII ones, as every model string has a pattern; the validator for all.)
Text = Annotated[
    str, pattern(r"^[^\x00-\x1f\x7f]*$", "one line of text"), AfterValidator(_one_line)
]
Email = Annotated[
    str,
    pattern(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", "an email address"),
]
HttpsUrl = Annotated[
    str, pattern(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/+-]*)?$", "an https:// URL")
]
# A file in a repository, relative to its root: no '..', no option-like or hidden first part.
RelativePath = Annotated[
    str,
    pattern(
        r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$",
        "a relative path of letters, digits, '_', '.', '-' and '/'",
    ),
]

# Where Helm charts may come from: HTTPS (or OCI, over TLS) from these hosts only.
CHART_HOSTS = frozenset({"prometheus-community.github.io", "grafana.github.io", "docker.io"})


def _chart_repository(url: str) -> str:
    match = re.fullmatch(r"(https|oci)://([a-z0-9.-]+)(/[A-Za-z0-9._~/-]*)?", url)
    if match is None or match.group(2) not in CHART_HOSTS:
        hosts = ", ".join(sorted(CHART_HOSTS))
        raise ValueError(f"must be an https:// or oci:// chart repository on {hosts}")
    return url


ChartRepository = Annotated[str, AfterValidator(_chart_repository)]
ChartName = Annotated[str, pattern(r"^[a-z0-9][a-z0-9-]{0,62}$", "a Helm chart name")]

_UNITS: dict[str, Decimal | int] = {
    "": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def quantity_value(quantity: str) -> Decimal:
    """The number a `Quantity` stands for (cores or bytes), to compare two of them."""
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity)
    assert match, quantity  # the Quantity pattern admits nothing else
    return Decimal(match.group(1)) * _UNITS[match.group(2)]


def duplicates(items: Sequence[Any], key: Callable[[Any], Hashable] = lambda x: x) -> list[Any]:
    """The keys that occur more than once, in order of their second occurrence."""
    seen: set[Hashable] = set()
    repeated: list[Any] = []
    for item in items:
        k = key(item)
        if k in seen and k not in repeated:
            repeated.append(k)
        seen.add(k)
    return repeated


def unique(what: str, key: Callable[[Any], Hashable] = lambda x: x) -> AfterValidator:
    """A list validator: no two items with the same `key` (`what` names the key in messages)."""

    def check(items: list[Any]) -> list[Any]:
        repeated = duplicates(items, key)
        if repeated:
            raise ValueError(f"{what} {', '.join(map(repr, repeated))} listed more than once")
        return items

    return AfterValidator(check)


def _git_branch(name: str) -> str:
    # `git check-ref-format --branch`: what git (and so GitHub) accepts as a branch name.
    bad = (
        not name
        or name == "@"
        or name.startswith(("/", "-"))
        or name.endswith(("/", ".", ".lock"))
        or any(part.startswith(".") for part in name.split("/"))
        or any(s in name for s in ("..", "//"))
        # Stricter than git: nothing a shell, YAML or Markdown would read as syntax.
        or not re.fullmatch(r"[A-Za-z0-9._/+-]+", name)
    )
    if bad:
        raise ValueError(
            "must be a git branch name of letters, digits and . _ / + -, with no '..' or '//', "
            "no part starting with '.', not ending in '/', '.' or '.lock'"
        )
    return name


BranchName = Annotated[str, StringConstraints(max_length=255), AfterValidator(_git_branch)]
