"""GitHub's REST API on loopback, for tests: Prism serving GitHub's own OpenAPI description.

Prism (`prism proxy --errors`, pinned in tools/github-api/) stands in front of `GitHub`, a small
loopback server holding what a test says GitHub holds (docs/internals/github-api-standin.md):
- every request is validated against GitHub's description (path, parameters, body) before it goes
  further: a wrong path is answered 404, a wrong field 422, as GitHub refuses them;
- every answer `GitHub` gives is validated against the description's response schema (500
  `VIOLATIONS` otherwise): the state a test sets can only take shapes GitHub really returns;
- what `GitHub` does not hold it answers 501, and Prism then answers the description's example.
`GitHub`'s answers are built from GitHub's recorded real exchanges (@octokit/fixtures) where one
records the object (repository, label, issue, the 422 error), else from the description's example,
with the test's values laid over them. Issues and comments are stateful (the sticky PR comment, the
drift issue); everything else a test sets with `GitHub.set(path, body)`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.loopback import loopback_server

REPO = Path(__file__).resolve().parents[1]
# Installed by `make test`'s tool step (Makefile, GITHUB_API_DIR) from tools/github-api/.
STANDIN = Path(os.environ.get("GITHUB_API_STANDIN", REPO / ".tools/github-api"))
MODULES = STANDIN / "node_modules"
PRISM = MODULES / "@stoplight/prism-cli/dist/index.js"
DESCRIPTION = MODULES / "@octokit/openapi/generated/api.github.com.json"
FIXTURES = MODULES / "@octokit/fixtures/scenarios/api.github.com"
# Measured 15-25 s on a loaded 2-core machine; the deadline leaves room for a busier one.
START_DEADLINE_SECONDS = 300.0
_LISTENING = re.compile(r"Prism is listening on (http://127\.0\.0\.1:\d+)")


def missing() -> str | None:
    """Why the stand-in cannot run here, or None."""
    from shutil import which

    if which("node") is None:
        return "no node on PATH: the GitHub API stand-in (Prism) cannot run"
    for path in (PRISM, DESCRIPTION, FIXTURES):
        if not path.exists():
            return f"{path} is missing: run `make tools` (npm ci of tools/github-api)"
    return None


# --- what GitHub answers: recorded exchanges and the description's examples --------------------


@cache
def _description() -> dict[str, Any]:
    return dict(json.loads(DESCRIPTION.read_text()))


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = _description()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def documented(path: str, method: str = "get", status: str = "200") -> Any:
    """The description's first example answer of an operation (a fresh copy)."""
    response = _resolve(_description()["paths"][path][method]["responses"][status])
    examples = response["content"]["application/json"]["examples"]
    return copy.deepcopy(_resolve(next(iter(examples.values())))["value"])


@cache
def _recorded(scenario: str) -> tuple[dict[str, Any], ...]:
    text = (FIXTURES / scenario / "normalized-fixture.json").read_text()
    return tuple(json.loads(text))


def recorded(scenario: str, method: str, path_end: str) -> Any:
    """The answer GitHub gave in a recorded exchange of @octokit/fixtures (a fresh copy)."""
    for exchange in _recorded(scenario):
        if exchange["method"] == method and exchange["path"].split("?")[0].endswith(path_end):
            return copy.deepcopy(exchange["response"])
    raise KeyError(f"{scenario}: no recorded {method} …{path_end}")


def repository(full_name: str, **values: Any) -> dict[str, Any]:
    """A repository as GET /repos/{owner}/{repo} answers (recorded), with `values` laid over."""
    repo = recorded("get-repository", "get", "/repos/octokit-fixture-org/hello-world")
    owner, name = full_name.split("/")
    repo.update(name=name, full_name=full_name, **values)
    repo["owner"]["login"] = owner
    return dict(repo)


def label(name: str, color: str, description: str | None = None) -> dict[str, Any]:
    item = recorded("labels", "get", "/labels")[0]
    item.update(name=name, color=color, description=description, default=False)
    return dict(item)


def _user(login: str) -> dict[str, Any]:
    user = documented("/user")
    user["login"] = login
    return dict(user)


def _issue(number: int, issue: dict[str, Any]) -> dict[str, Any]:
    item = recorded("add-labels-to-issue", "post", "/issues")
    item.update(
        number=number,
        title=issue["title"],
        body=issue["body"],
        state=issue["state"],
        user={**item["user"], "login": issue["user"]},
        labels=[label(n, "ededed") for n in issue["labels"]],
    )
    if issue.get("pull_request"):
        item["pull_request"] = documented("/repos/{owner}/{repo}/issues/{issue_number}")[
            "pull_request"
        ]
    return dict(item)


def _comment(cid: int, comment: dict[str, Any]) -> dict[str, Any]:
    item = documented("/repos/{owner}/{repo}/issues/comments/{comment_id}")
    item.update(id=cid, body=comment["body"], user={**item["user"], "login": comment["user"]})
    return dict(item)


# --- the state a test sets ---------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class GitHub:
    """What GitHub holds for one test. `base` is the URL clients use (Prism's)."""

    def __init__(self, base: str, repo: str = "tbcoin/tbcoin-engine-ml") -> None:
        self.base = base
        self.repo = repo
        # token -> login; None behaves like the Actions token, for which GET /user is refused.
        self.tokens: dict[str, str | None] = {"token": "infra-bot", "other": "mallory"}
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.answers: dict[tuple[str, str], Answer] = {}
        self.failures: dict[str, int] = {}
        # Every request that passed Prism's validation, as (method, path).
        self.requests: list[tuple[str, str]] = []
        self._next = 1

    def set(
        self, path: str, body: Any = None, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """GET `path` answers this (a list is paged as GitHub pages it)."""
        self.answers[("GET", path)] = Answer(status, body, headers or {})

    def add_pull_request(self, number: int) -> None:
        self.issues[number] = {
            "title": "a PR", "body": "", "state": "open", "labels": [], "user": "author",
            "pull_request": True,
        }  # fmt: skip

    def _id(self) -> int:
        self._next += 1
        return self._next

    def _page(self, path: str, items: list[Any], query: dict[str, list[str]]) -> Answer:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        headers = {}
        if page * per_page < len(items):
            following = urlencode({"per_page": per_page, "page": page + 1})
            headers["Link"] = f'<{self.base}{path}?{following}>; rel="next"'
        return Answer(200, items[(page - 1) * per_page : page * per_page], headers)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, token: str
    ) -> Answer:
        self.requests.append((method, path))
        if path in self.failures:
            return Answer(self.failures[path], {"message": "Injected failure\nsecond line"})
        if token not in self.tokens:
            return Answer(401, {"message": "Bad credentials"})
        login = self.tokens[token]
        if path == "/user":
            if login is None:
                return Answer(403, {"message": "Resource not accessible by integration"})
            return Answer(200, _user(login))
        answer = self.answers.get((method, path))
        if answer is not None:
            if isinstance(answer.body, list) and answer.status == 200:
                paged = self._page(path, answer.body, query)
                return Answer(200, paged.body, {**answer.headers, **paged.headers})
            return answer
        return self._issues(method, path, query, body, login or "github-actions[bot]")

    def _issues(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, login: str
    ) -> Answer:
        prefix = f"/repos/{self.repo}/issues"
        if path == prefix and method == "GET":
            state = query.get("state", ["open"])[0]
            labels = set(query.get("labels", [""])[0].split(",")) - {""}
            creator = query.get("creator", [None])[0]
            found = [
                _issue(n, i) for n, i in sorted(self.issues.items())
                if i["state"] == state and labels <= set(i["labels"])
                and creator in (None, i["user"])
            ]  # fmt: skip
            return self._page(path, found, query)
        if path == prefix and method == "POST":
            number = self._id()
            self.issues[number] = {
                "title": body["title"], "body": body.get("body", ""), "state": "open",
                "labels": list(body.get("labels", [])), "user": login,
            }  # fmt: skip
            return Answer(201, _issue(number, self.issues[number]))
        if match := re.fullmatch(rf"{prefix}/(\d+)", path):
            number = int(match.group(1))
            if number not in self.issues:
                return Answer(404, {"message": "Not Found"})
            if method == "PATCH":
                fields = ("body", "state", "title")
                self.issues[number].update({k: v for k, v in body.items() if k in fields})
            return Answer(200, _issue(number, self.issues[number]))
        if match := re.fullmatch(rf"{prefix}/(\d+)/comments", path):
            number = int(match.group(1))
            if method == "POST":
                cid = self._id()
                self.comments[cid] = {"issue": number, "body": body["body"], "user": login}
                return Answer(201, _comment(cid, self.comments[cid]))
            on_issue = [
                _comment(c, v) for c, v in sorted(self.comments.items()) if v["issue"] == number
            ]
            return self._page(path, on_issue, query)
        if (match := re.fullmatch(rf"{prefix}/comments/(\d+)", path)) and method == "PATCH":
            cid = int(match.group(1))
            self.comments[cid]["body"] = body["body"]
            return Answer(200, _comment(cid, self.comments[cid]))
        return Answer(501)  # not held here: Prism answers the description's example


# --- Prism, and the upstream it validates ------------------------------------------------------


class StandIn:
    """One Prism in front of one upstream server; `fresh()` gives each test an empty GitHub."""

    def __init__(self) -> None:
        self.github: GitHub | None = None
        self.url = ""
        self._upstream = loopback_server(self._handle)
        fd, log = tempfile.mkstemp(prefix="prism-", suffix=".log")
        os.close(fd)
        self._log = Path(log)
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self.start_seconds = 0.0

    def _handle(
        self, method: str, path: str, headers: Any, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        url = urlparse(path)
        token = (headers.get("Authorization") or "").split(" ")[-1]
        if self.github is None:
            return 501, None, {}
        answer = self.github.handle(method, url.path, parse_qs(url.query), body or {}, token)
        return answer.status, answer.body, answer.headers

    def start(self) -> None:
        """Start Prism in the background (it reads the 13 MB description for 15-25 s)."""
        upstream = self._upstream.__enter__()
        self._started = time.monotonic()
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                ["node", str(PRISM), "proxy", "--errors", "-h", "127.0.0.1", "-p", "0",
                 str(DESCRIPTION), upstream],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip

    def ready(self) -> str:
        """Prism's URL once it listens."""
        assert self._process is not None
        while not self.url:
            text = self._log.read_text(errors="replace")
            if found := _LISTENING.search(text):
                self.url = found.group(1)
                self.start_seconds = time.monotonic() - self._started
            elif self._process.poll() is not None or (
                time.monotonic() - self._started > START_DEADLINE_SECONDS
            ):
                raise RuntimeError(f"Prism did not start; its log ends:\n{text[-2000:]}")
            else:
                time.sleep(0.2)
        return self.url

    def fresh(self, repo: str = "tbcoin/tbcoin-engine-ml") -> GitHub:
        self.github = GitHub(self.ready(), repo)
        return self.github

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._upstream.__exit__(None, None, None)
        self._log.unlink(missing_ok=True)


@contextmanager
def standin() -> Iterator[StandIn]:
    running = StandIn()
    running.start()
    try:
        yield running
    finally:
        running.stop()
