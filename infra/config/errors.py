"""Config problems as users read them: `<file>: <namespace>:<key path>: <what is wrong>`."""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

import pydantic

from infra.config.base import PATTERN_WORDS
from infra.config.user_error import UserError
from secret_patterns import is_credential_name, redact

NAMESPACE = "tbcoin-platform"


@dataclass(frozen=True, order=True)
class ConfigProblem:
    path: str  # dotted key path below the namespace, e.g. "kubernetes.replicas"
    message: str
    namespace: str = NAMESPACE

    def render(self, source: str) -> str:
        key = f"{self.namespace}:{self.path}" if self.path else self.namespace
        # Last line of defence: a token quoted from user input never reaches a terminal or log.
        return redact(f"{source}: {key}: {self.message}")


class ConfigError(UserError):
    """Raised for any invalid stack configuration: one line per problem, naming file and key."""

    def __init__(self, source: str, problems: list[ConfigProblem]):
        self.source = source
        self.problems = sorted(set(problems))
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(p.render(self.source) for p in self.problems)

    def report(self) -> str:
        return self.render()


_AT = "\x00"
# (field, tag) pairs of discriminated unions: pydantic puts the tag into error locations.
_UNION_TAGS: set[tuple[str, str]] = set()


def register_union_tags(field: str, tags: list[str]) -> None:
    _UNION_TAGS.update((field, tag) for tag in tags)


def _strip_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return tuple(
        part for i, part in enumerate(loc) if not (i and (loc[i - 1], part) in _UNION_TAGS)
    )


def at(path: str, message: str) -> ValueError:
    """A validator error that points at a key below the validated model, not at the model."""
    return ValueError(f"{_AT}{path}{_AT}{message}")


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_/-][A-Za-z0-9_./-]*$")


def _sub_path(path: str) -> list[int | str]:
    """`steps[1].weight` -> ["steps", 1, "weight"]."""
    return [int(p) if p.isdigit() else p for p in re.split(r"\.|\[(\d+)\]\.?", path) if p]


def format_path(loc: tuple[int | str, ...]) -> str:
    """`a.b[0].c`; keys that are not plain words are quoted so a message stays one line."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


HIDDEN = "a value not shown: it may be a secret"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _message(err: Any, known_keys: list[str], renamed: dict[str, str], reveal: bool) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if not reveal:
        # Keep the message; replace what it would quote.
        err = {**err, "input": _Hidden()}
        got = err["input"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        if key in renamed:
            return f"renamed to {renamed[key]}"
        hint = difflib.get_close_matches(key, known_keys, n=1, cutoff=0.6)
        known = ", ".join(sorted(known_keys))
        suffix = f"; did you mean '{hint[0]}'?" if hint else f" (known keys: {known})"
        return f"unknown key{suffix}"
    if kind == "missing":
        return "required key is missing"
    for bound, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if kind.startswith(("greater_than", "less_than")) and bound in ctx:
            limit = ctx[bound]
            shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
            return f"must be {word} {shown} (got {_show(got)})"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]} (got {_show(got)})"
    if kind == "union_tag_invalid":
        return f"type must be one of {ctx.get('expected_tags')} (got {_show(ctx.get('tag'))})"
    if kind == "union_tag_not_found":
        return f"needs a `type` key, one of {ctx.get('expected_tags')}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')} (got {_show(got)})"
    if kind == "string_pattern_mismatch":
        regex = str(ctx.get("pattern"))
        return f"must be {PATTERN_WORDS.get(regex, 'text matching ' + regex)} (got {_show(got)})"
    if kind in ("string_too_short", "too_short"):
        return f"must not be empty (got {_show(got)})"
    if kind in ("string_too_long", "too_long"):
        return f"is too long (got {_show(got)})"
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{msg[:1].lower()}{msg[1:]} (got {_show(got)})"


class _Hidden:
    def __repr__(self) -> str:
        return HIDDEN


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation can hold, with Optional/Union/Annotated peeled off."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _literal_values(model: Any, field: str) -> tuple[Any, ...]:
    if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
        return ()
    info = model.model_fields.get(field)
    return typing.get_args(info.annotation) if info else ()


def _types_at(model: type[pydantic.BaseModel], loc: tuple[int | str, ...]) -> list[Any]:
    """The types the value at `loc` below `model` can have."""
    current: list[Any] = [model]
    for i, part in enumerate(loc):
        if i and (loc[i - 1], part) in _UNION_TAGS:
            current = [c for c in current if part in _literal_values(c, "type")]
            continue
        following: list[Any] = []
        for cand in current:
            if isinstance(cand, type) and issubclass(cand, pydantic.BaseModel):
                for name, field in cand.model_fields.items():
                    if part in (name, field.alias):
                        following.extend(_unwrap(field.annotation))
            elif typing.get_origin(cand) in (dict, list, tuple):
                args = typing.get_args(cand)
                if args:
                    following.extend(_unwrap(args[-1]))
        current = [c for f in following for c in _unwrap(f)]
    return current


def _keys_at(model: type[pydantic.BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field aliases of the model that sits at `loc` below `model`, for "did you mean"."""
    keys: list[str] = []
    for cand in _types_at(model, loc):
        if isinstance(cand, type) and issubclass(cand, pydantic.BaseModel):
            keys.extend(f.alias or n for n, f in cand.model_fields.items())
    return keys


def _renamed_at(model: type[pydantic.BaseModel], loc: tuple[int | str, ...]) -> dict[str, str]:
    """The old keys of the model that sits at `loc` below `model`, with what replaced each."""
    renamed: dict[str, str] = {}
    for cand in _types_at(model, loc):
        renamed |= getattr(cand, "RENAMED", {})
    return renamed


def _reveals(model: type[pydantic.BaseModel], loc: tuple[int | str, ...]) -> bool:
    """Whether a message may quote the value at `loc`: not below a credential-named key, nor in
    a model that holds secrets (`reveals_input = False`), where a value may be a password."""
    if any(isinstance(part, str) and is_credential_name(part) for part in loc):
        return False
    return all(
        getattr(cand, "reveals_input", True)
        for i in range(len(loc) + 1)
        for cand in _types_at(model, loc[:i])
    )


def problems_from_validation(
    model: type[pydantic.BaseModel], exc: pydantic.ValidationError
) -> list[ConfigProblem]:
    problems = []
    replaced: set[str] = set()
    for err in exc.errors():
        # Tagged unions insert the tag as a pseudo-field into `loc`; users never typed it.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        is_key = bool(loc) and loc[-1] == "[key]"
        loc = loc[:-1] if is_key else loc
        extra = err["type"] == "extra_forbidden"
        known = _keys_at(model, loc[:-1]) if extra else []
        renamed = _renamed_at(model, loc[:-1]) if extra else {}
        reveal = _reveals(model, loc)
        loc = _strip_tags(loc)
        message = _message(err, known, renamed, reveal)
        if _AT in message:
            _, sub, text = message.split(_AT, 2)
            text = text.rsplit(" (got ", 1)[0]
            loc = (*loc, *_sub_path(sub))
            message = text
        if is_key:
            message = f"the key itself {message}"
        old = str(loc[-1]) if loc else ""
        if extra and old in renamed:
            # The new key is then missing too; the rename already says so.
            replaced.add(format_path((*loc[:-1], re.split(r"[ ,.]", renamed[old])[0])))
        problems.append(ConfigProblem(format_path(loc), message))
    missing = "required key is missing"
    return [p for p in problems if not (p.message == missing and p.path in replaced)]
