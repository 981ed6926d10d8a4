"""Simple commands of a `run:` script, with words as Scorecard's extractCommand sees them.

Scorecard parses scripts with mvdan.cc/sh and keeps, per call, each argument made of exactly one
part: a literal (`sudo` dropped), a single-quoted string (kept with its quotes) or a
double-quoted string holding one literal (kept with its quotes); other words (expansions,
mixed quoting) are left out. This lexer yields the same view for the shell the managed
workflows use: lists and pipelines (`;`, `&&`, `||`, `|`, `&`, newlines, line continuations),
comments, assignments and redirections before or between words, compound-command keywords,
command substitutions (whose inner commands are walked too, as syntax.Walk does) and here-docs.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_SEPARATORS = set(";&|()\n")
_RESERVED = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"}
_CLAUSE_ENDS = {"fi", "done", "esac", "}", "for", "case", "in"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_REDIRECT = re.compile(r"\d*(<<-?|<<<|>>|>&|<&|&>|>\||<>|>|<)")


class ShellSyntaxError(ValueError):
    """The script does not lex (unterminated quote or substitution)."""


@dataclass
class _Word:
    parts: list[tuple[str, str]]  # (kind, value): lit, sgl, dbl, dbl-expansion, expansion

    def argument(self) -> str | None:
        if len(self.parts) != 1:
            return None
        kind, value = self.parts[0]
        if kind == "lit":
            return None if value.lower() == "sudo" else value
        if kind == "sgl":
            return f"'{value}'"
        if kind == "dbl" and value:
            return f'"{value}"'
        return None

    def literal(self) -> str:
        return "".join(v for _, v in self.parts)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.commands: list[list[_Word]] = []
        self.heredocs: list[tuple[str, bool]] = []

    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.text[j] if j < len(self.text) else ""

    def run(self) -> list[list[_Word]]:
        words: list[_Word] = []
        while self.i < len(self.text):
            c = self.peek()
            if c == "\\" and self.peek(1) == "\n":
                self.i += 2
            elif c in " \t\r":
                self.i += 1
            elif c == "#":
                while self.i < len(self.text) and self.peek() != "\n":
                    self.i += 1
            elif c in _SEPARATORS:
                self._end(words)
                words = []
                self.i += 1
                if c == "\n":
                    self._skip_heredocs()
            elif _REDIRECT.match(self.text, self.i) and (
                c in "<>&" or _REDIRECT.match(self.text, self.i).end() > self.i + 1  # type: ignore[union-attr]
            ):
                self._redirect()
            else:
                words.append(self._word())
        self._end(words)
        return self.commands

    def _end(self, words: list[_Word]) -> None:
        while words and words[0].literal() in _RESERVED:
            words = words[1:]
        while words and _ASSIGNMENT.match(words[0].literal()):
            words = words[1:]
        if words and words[0].literal() not in _CLAUSE_ENDS:
            self.commands.append(words)

    def _redirect(self) -> None:
        match = _REDIRECT.match(self.text, self.i)
        assert match is not None
        operator = match.group(1)
        self.i = match.end()
        while self.peek() in " \t":
            self.i += 1
        if self.peek() and self.peek() not in _SEPARATORS:
            target = self._word()
            if operator in ("<<", "<<-"):
                quoted = any(kind != "lit" for kind, _ in target.parts)
                self.heredocs.append((target.literal(), quoted))

    def _skip_heredocs(self) -> None:
        for delimiter, _ in self.heredocs:
            while self.i < len(self.text):
                end = self.text.find("\n", self.i)
                end = len(self.text) if end == -1 else end
                line = self.text[self.i : end]
                self.i = end + 1
                if line.strip() == delimiter:
                    break
        self.heredocs = []

    def _word(self) -> _Word:
        parts: list[tuple[str, str]] = []
        literal = ""

        def flush() -> None:
            nonlocal literal
            if literal:
                parts.append(("lit", literal))
                literal = ""

        while self.i < len(self.text):
            c = self.peek()
            if c in " \t\r" or c in _SEPARATORS or (c in "<>" and not literal):
                break
            if c == "\\":
                literal += self.text[self.i : self.i + 2]
                self.i += 2
            elif c == "'":
                flush()
                end = self.text.find("'", self.i + 1)
                if end == -1:
                    raise ShellSyntaxError("reached EOF without closing quote '")
                parts.append(("sgl", self.text[self.i + 1 : end]))
                self.i = end + 1
            elif c == '"':
                flush()
                parts.append(self._double_quoted())
            elif c == "$" or c == "`":
                flush()
                parts.append(("expansion", self._expansion()))
            else:
                literal += c
                self.i += 1
        flush()
        return _Word(parts)

    def _double_quoted(self) -> tuple[str, str]:
        self.i += 1
        value, expands = "", False
        while True:
            c = self.peek()
            if not c:
                raise ShellSyntaxError('reached EOF without closing quote "')
            if c == '"':
                self.i += 1
                return ("dbl-expansion" if expands else "dbl", value)
            if c == "\\":
                value += self.text[self.i : self.i + 2]
                self.i += 2
            elif c in "$`":
                expands = True
                value += self._expansion()
            else:
                value += c
                self.i += 1

    def _expansion(self) -> str:
        start = self.i
        if self.peek() == "`":
            end = self.text.find("`", self.i + 1)
            if end == -1:
                raise ShellSyntaxError("reached EOF without closing backquote")
            self._inner(self.text[self.i + 1 : end])
            self.i = end + 1
        elif self.peek(1) in "({":
            close = ")" if self.peek(1) == "(" else "}"
            depth, j = 0, self.i + 1
            while j < len(self.text):
                if self.text[j] == self.peek(1):
                    depth += 1
                elif self.text[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            else:
                raise ShellSyntaxError(f"reached EOF without matching {close}")
            if close == ")" and not self.text.startswith("$((", self.i):
                self._inner(self.text[self.i + 2 : j])
            self.i = j + 1
        else:
            self.i += 1
            while self.peek() and (self.peek().isalnum() or self.peek() in "_@*#?$!-"):
                self.i += 1
                if self.text[self.i - 1] in "@*#?$!-":
                    break
        return self.text[start : self.i]

    def _inner(self, text: str) -> None:
        self.commands.extend(_Lexer(text).run())


# An estate's repositories run the same managed workflows, read by the program and the pack
# alike: each script is lexed once per process. Callers read the lists and never change them.
@functools.lru_cache(maxsize=256)
def commands(script: str) -> list[list[str]]:
    """Each simple command of the script as extractCommand's argument list (empty ones dropped)."""
    found = []
    for words in _Lexer(script).run():
        args = [a for a in (w.argument() for w in words) if a is not None]
        if args:
            found.append(args)
    return found
