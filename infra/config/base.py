"""Shared pydantic base and constrained types for stack configuration."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


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
    # Keys of an older vocabulary, each with what replaced it: such a key is refused with these
    # words (`scaleDownDelaySeconds: renamed to scaleDownDelay, a duration such as 10m`), never
    # silently accepted or reported as merely unknown.
    RENAMED: ClassVar[dict[str, str]] = {}


# The number rules, one for every numeric key. `pulumi config set --path` stores integers and
# booleans typed but decimals as strings, so a number that may have a fraction is also taken as a
# decimal string; an integer never is (`replicas: "3"` is refused, as Pulumi would write 3). No
# key takes more significant digits than this: beyond it a decimal string would not round-trip
# through a float (a 400-digit one becomes inf), and an integer would mean nothing.
MAX_DIGITS = 15
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _too_long(digits: str) -> ValueError:
    return ValueError(
        f"must be a number of at most {MAX_DIGITS} digits (got one of {len(digits)} digits)"
    )


def _decimal(value: Any) -> Any:
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        digits = value.lstrip("-").replace(".", "").lstrip("0")
        if len(digits) > MAX_DIGITS:
            raise _too_long(digits)
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number (got {value})")
    return _integer(value)


def _integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_DIGITS:
        raise _too_long(str(abs(value)))
    return value


class _DecimalString:
    """In a key's JSON Schema: the number may also be the decimal string Pulumi writes."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        number = handler(schema)
        decimal = {"type": "string", "pattern": _DECIMAL.pattern.join("^$")}
        return {"anyOf": [number, decimal]}


# A number: an integer, a float, or a decimal as `pulumi config set --path` writes it; never a
# bool, NaN or infinity.
Number = Annotated[float, BeforeValidator(_decimal), _DecimalString()]
# A whole number, written as one (bools and strings are refused by the models' strict mode).
Integer = Annotated[int, BeforeValidator(_integer)]


def _ratio_hint(value: Any) -> Any:
    # The old vocabulary had integer percentages (`weight: 5`, `targetCpuUtilization: 70`).
    number = _decimal(value)
    if isinstance(number, int | float) and not isinstance(number, bool) and 1 < number <= 100:
        raise ValueError(f"must be a ratio from 0 to 1: {number:g}% is {number / 100:g}")
    return number


# A fraction from 0 to 1 (`0.02`), never a percentage; a key may bound it further with Field.
Ratio = Annotated[
    float,
    Field(ge=0, le=1),
    BeforeValidator(_ratio_hint),
    _DecimalString(),
    Field(json_schema_extra={"x-unit": "ratio"}),
]
# A ratio strictly between 0 and 1 (the bounds stated before the schema marker, so that the
# JSON Schema states them too).
OpenRatio = Annotated[
    float,
    Field(gt=0, lt=1),
    BeforeValidator(_ratio_hint),
    _DecimalString(),
    Field(json_schema_extra={"x-unit": "ratio"}),
]


def _whole_percent(value: float) -> float:
    if round(value * 100, 9) != round(value * 100):
        raise ValueError(
            f"must be a multiple of 0.01 (a whole percent, which Argo Rollouts and the autoscaler "
            f"take); got {value:g}"
        )
    return value


# A ratio that the cluster receives as an integer percentage (traffic weights, HPA targets).
PercentRatio = Annotated[Ratio, AfterValidator(_whole_percent)]


def percent(ratio: float) -> int:
    """A `PercentRatio` as the integer percentage it stands for (0.05 -> 5)."""
    return round(ratio * 100)


# What each pattern means, in the words an error message should use.
PATTERN_WORDS: dict[str, str] = {}


def pattern(regex: str, words: str, max_length: int | None = None) -> StringConstraints:
    PATTERN_WORDS[regex] = words
    return StringConstraints(pattern=regex, max_length=max_length)


# Durations, one grammar everywhere: an integer and a unit, `500ms`, `30s`, `5m`, `1h`, `7d`.
# Each consumer gets its own form from it (seconds, Go durations for Argo Rollouts, minutes).
DURATION_UNITS: dict[str, Decimal] = {
    "ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600),
    "d": Decimal(86400),
}  # fmt: skip
DURATION_PATTERN = r"^(0|[1-9][0-9]{0,8})(ms|s|m|h|d)$"
DURATION_WORDS = "a duration: an integer and a unit ms, s, m, h or d, such as 500ms, 30s, 10m, 7d"
_OLD_UNITS = {"w": 7, "y": 365}  # Prometheus' own, which the old grammar also took


def seconds(duration: str) -> Decimal:
    """How many seconds a duration is (exact: `500ms` is 0.5)."""
    match = re.fullmatch(r"([0-9]+)([a-z]+)", duration)
    assert match is not None, duration  # the pattern admits nothing else
    return int(match.group(1)) * DURATION_UNITS[match.group(2)]


def in_seconds(duration: str) -> float:
    """A duration as the float number of seconds Prometheus and the analysis compare with."""
    return float(seconds(duration))


def go_duration(duration: str) -> str:
    """A duration as Go's time.ParseDuration reads it (Argo Rollouts): no `d` unit."""
    number, unit = re.fullmatch(r"([0-9]+)([a-z]+)", duration).groups()  # type: ignore[union-attr]
    return f"{int(number) * 24}h" if unit == "d" else duration


def as_duration(value: Decimal) -> str:
    """Seconds in the grammar, in the largest unit that states them whole (600 -> 10m)."""
    for unit in ("d", "h", "m", "s", "ms"):
        count = value / DURATION_UNITS[unit]
        if count == count.to_integral_value():
            return f"{int(count)}{unit}"
    raise ValueError(f"{value} seconds is not a whole number of milliseconds")


def _duration_hint(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"must be {DURATION_WORDS}; a bare number has no unit (got {value!r})")
    if isinstance(value, str):
        old = re.fullmatch(r"([0-9]{1,9})([wy])", value)
        if old:
            days = int(old.group(1)) * _OLD_UNITS[old.group(2)]
            raise ValueError(f"must be {DURATION_WORDS}: {value} is {days}d")
    return value


# One duration, bounded per key with `Within` (`Annotated[Duration, Within("30s", "1d")]`).
Duration = Annotated[
    str,
    pattern(DURATION_PATTERN, DURATION_WORDS),
    BeforeValidator(_duration_hint),
    Field(json_schema_extra={"x-unit": "duration"}),
]


@dataclass(frozen=True)
class Within:
    """A duration between `minimum` and `maximum`, a whole multiple of `step` (each itself a
    duration); the bounds are also stated in the key's JSON Schema (editors, the reference)."""

    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None

    def check(self, value: str) -> str:
        amount = seconds(value)
        if self.minimum is not None and amount < seconds(self.minimum):
            raise ValueError(f"must be at least {self.minimum} (got {value})")
        if self.maximum is not None and amount > seconds(self.maximum):
            raise ValueError(f"must be at most {self.maximum} (got {value})")
        if self.step is not None and amount % seconds(self.step):
            raise ValueError(f"must be a whole number of {self.step} (got {value})")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        bounds = {"minimum": self.minimum, "maximum": self.maximum, "step": self.step}
        json_schema.update({f"x-{k}": v for k, v in bounds.items() if v is not None})
        return json_schema


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
    Field(json_schema_extra={"x-unit": "quantity"}),
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
CHART_HOSTS = frozenset(
    {"prometheus-community.github.io", "grafana.github.io", "docker.io", "argoproj.github.io"}
)


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
