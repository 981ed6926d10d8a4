"""Strict, bounded readers for the YAML and JSON documents users hand to infractl.

Pulumi reads stack files with go-yaml, which refuses a key given twice in one mapping and stops
on excessive aliasing; Python's defaults do neither (PyYAML keeps the last duplicate, and a
407-byte alias bomb expands to millions of nodes once anything walks it). These readers refuse, in
one line and before anything else looks at the data: a document over `max_bytes`, bytes that are
not UTF-8, a duplicate key, nesting deeper than `max_depth`, more than `max_nodes` values once
aliases are expanded (an alias that contains itself included), and, for JSON, NaN/Infinity and
numbers Python cannot hold. Callers wrap `DocumentError` into their own error naming the file.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1 << 20  # a stack file is a few KiB; the limit leaves room for large governance sets
MAX_DEPTH = 64  # our deepest config is ~10 levels; Python's parsers recurse per level
MAX_NODES = 100_000  # values after alias expansion; a real stack file has a few thousand


class DocumentError(ValueError):
    """What is wrong with a document and where, in one line (without the file's name)."""


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """At most `max_bytes + 1` bytes of a regular file; DocumentError otherwise.

    Bounded in time as well as size: the file is opened without blocking and read only when it
    is a regular file, so a FIFO nobody writes to, a terminal, or `/dev/zero` given as input is
    one line naming what it is, never a hang or "not found"."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise DocumentError("file not found") from None
    except OSError as exc:
        raise DocumentError(f"cannot read it: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "a special file")
            raise DocumentError(f"is {kind}, not a regular file; refusing to read it")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes and (chunk := os.read(fd, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise DocumentError(f"cannot read it: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_document(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The file's text; DocumentError if it is missing, not a regular file, unreadable, too
    large or not UTF-8."""
    return decode(read_bounded(path, max_bytes), max_bytes=max_bytes)


def decode(data: bytes, *, max_bytes: int = MAX_BYTES) -> str:
    if len(data) > max_bytes:
        raise DocumentError(f"larger than {max_bytes} bytes; refusing to read it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} (offset {exc.start})"
        ) from None


def _limits_error(what: str, line: int | None = None) -> DocumentError:
    return DocumentError(f"{what}{f' (line {line})' if line else ''}; refusing to read it")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and counts depth while composing."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                line = self.peek_event().start_mark.line + 1
                raise _limits_error(f"nested deeper than {self.max_depth} levels", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node: MappingNode = super().compose_mapping_node(anchor)
        seen: dict[Any, int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            value = self.construct_object(key)
            line = key.start_mark.line + 1
            if not isinstance(value, str):  # JSON, and so the engine's config, has no other
                raise DocumentError(
                    f"line {line}: key {key.value!r} is {_KIND.get(key.tag, 'not a string')}, "
                    f'not a string; quote it ("{key.value}") if a name is meant'
                )
            if value in seen:
                raise DocumentError(
                    f"line {line}: duplicate key {value!r} (first on line {seen[value]}); "
                    "a second entry would silently replace the first"
                )
            seen[value] = line
        return node


# Scalars resolve as YAML 1.2's core schema (the engine's go-yaml v3) resolves them, where it
# differs from PyYAML's YAML 1.1 by reading *less* into a plain scalar: `1:20` is the string it
# looks like, not the sexagesimal 80 a port would silently become; `2024-01-01` is a string, not a
# date no model field expects; `yes`, `on`, `1_000` and `0b101` are strings. Each form read here
# as a number or boolean is one YAML 1.1 reads so too, so files PyYAML writes read back the same.
_CORE_SCHEMA = {
    "tag:yaml.org,2002:bool": (r"true|True|TRUE|false|False|FALSE", "tTfF"),
    "tag:yaml.org,2002:int": (r"[-+]?(0|[1-9][0-9]*)|0x[0-9a-fA-F]+", "-+0123456789"),
    "tag:yaml.org,2002:float": (
        r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
        "-+.0123456789",
    ),
}
_REPLACED = {*_CORE_SCHEMA, "tag:yaml.org,2002:timestamp"}  # a timestamp stays a string
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, (_regex, _first) in _CORE_SCHEMA.items():  # in order: an integer is not a float
    _StrictLoader.add_implicit_resolver(_tag, re.compile(f"^(?:{_regex})$"), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: Node) -> int:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    try:
        return int(text[2:], 16) if text.startswith("0x") else int(text, 10)
    except ValueError:  # beyond Python's limit for reading an integer (4300 digits)
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {len(text)} digits, longer than any value", node.start_mark
        ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

_KIND = {
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
}
# Tags of YAML 1.1 types a document here has no use for: the engine hands the program JSON, which
# has no bytes, sets, dates or ordered pairs. A string is taken as a string (`!!str` stays).
_REFUSED_TAGS = ("binary", "set", "timestamp", "omap", "pairs")


def _refuse_tag(loader: yaml.SafeLoader, node: Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not accepted (only "
        "strings, numbers, booleans, null, lists and mappings)",
        node.start_mark,
    )


for _name in _REFUSED_TAGS:
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_name}", _refuse_tag)


def _expanded(root: Node, max_depth: int, max_nodes: int) -> None:
    """Refuse a node graph whose alias expansion is too large, too deep or contains itself.

    Each node's expanded size and depth are computed once (iteratively: no recursion limit), so
    a bomb costs as little to refuse as it took to parse."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in size:
            continue
        children = [
            child
            for item in (node.value if isinstance(node, MappingNode | SequenceNode) else [])
            for child in (item if isinstance(item, tuple) else (item,))
        ]
        if not children_done:
            if key in open_nodes:
                raise _limits_error("an alias refers to a value that contains it", _line(node))
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in size)
            continue
        open_nodes.discard(key)
        size[key] = 1 + sum(size[id(c)] for c in children)
        depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
        if size[key] > max_nodes:
            raise _limits_error(
                f"more than {max_nodes} values once aliases are expanded", _line(node)
            )
        if depth[key] > max_depth:
            raise _limits_error(
                f"nested deeper than {max_depth} levels once aliases are expanded", _line(node)
            )


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _unprintable(exc: yaml.reader.ReaderError, text: str) -> DocumentError:
    # Its str() spans two lines; say where, on one.
    line = text[: exc.position].count("\n") + 1
    return DocumentError(
        f"not valid YAML: line {line}: character U+{exc.character:04X} is not allowed in YAML "
        "(a NUL byte or another non-printable character)"
    )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    said = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    return f"not valid YAML: {where}{', '.join(filter(None, said)) or exc}"


def parse_yaml(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """One YAML document, like `yaml.safe_load` but strict and bounded (see the module)."""
    try:  # the reader refuses NUL and other non-printable characters as it is constructed
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        raise _unprintable(exc, text) from None
    loader.max_depth = max_depth
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded(node, max_depth, max_nodes)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise DocumentError(_yaml_problem(exc)) from None
    finally:
        loader.dispose()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentError(
                f"duplicate key {key!r}; a second entry would silently replace the first"
            )
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise DocumentError(f"{name} is not a JSON number")


def parse_json(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """One JSON value, strict and bounded (see the module)."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise _limits_error(f"nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # e.g. an integer longer than Python's digit limit
        if isinstance(exc, DocumentError):
            raise
        raise DocumentError(f"not valid JSON: {exc}") from None
    _check_tree(value, max_depth, max_nodes)
    return value


def _check_tree(value: Any, max_depth: int, max_nodes: int) -> None:
    """JSON has no aliases: count and measure the parsed tree, iteratively."""
    seen = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        seen += 1
        if level > max_depth:
            raise _limits_error(f"nested deeper than {max_depth} levels")
        if seen > max_nodes:
            raise _limits_error(f"more than {max_nodes} values")
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, level + 1) for child in children)


def load_yaml(path: Path, *, max_bytes: int = MAX_BYTES, **limits: int) -> Any:
    return parse_yaml(read_document(path, max_bytes=max_bytes), **limits)


def load_json(path: Path, *, max_bytes: int = MAX_BYTES, **limits: int) -> Any:
    return parse_json(read_document(path, max_bytes=max_bytes), **limits)
