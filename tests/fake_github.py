"""A tiny stand-in for the GitHub REST API on loopback: just the issue, comment and user endpoints
the operations tools use, so PyGithub's real requests can be tested without GitHub.

Each token is a user (`tokens`: token -> login; a token mapped to None behaves like the Actions
token, for which GET /user is refused); `failures` makes a path answer with an error status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.loopback import loopback_server


class FakeGitHub:
    def __init__(self, repo: str) -> None:
        self.repo = repo
        self.base = ""
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.tokens: dict[str, str | None] = {"token": "infra-bot", "other": "mallory"}
        self.failures: dict[str, int] = {}
        self._next = 1

    def _id(self) -> int:
        self._next += 1
        return self._next

    def repo_json(self) -> dict[str, Any]:
        return {
            "full_name": self.repo,
            "name": self.repo.split("/")[1],
            "url": f"{self.base}/repos/{self.repo}",
        }

    def issue_json(self, number: int) -> dict[str, Any]:
        issue = self.issues[number]
        return {
            "number": number,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "user": {"login": issue["user"]},
            "labels": [{"name": n} for n in issue["labels"]],
            "url": f"{self.base}/repos/{self.repo}/issues/{number}",
            "comments_url": f"{self.base}/repos/{self.repo}/issues/{number}/comments",
        }

    def comment_json(self, cid: int) -> dict[str, Any]:
        comment = self.comments[cid]
        return {
            "id": cid,
            "body": comment["body"],
            "user": {"login": comment["user"]},
            "url": f"{self.base}/repos/{self.repo}/issues/comments/{cid}",
        }

    def add_pull_request(self, number: int) -> None:
        self.issues[number] = {
            "title": "a PR", "body": "", "state": "open", "labels": [], "user": "author",
        }  # fmt: skip

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, token: str
    ) -> tuple[int, Any]:
        self.requests.append((method, path))
        if path in self.failures:
            return self.failures[path], {"message": "Injected failure\nsecond line"}
        if token not in self.tokens:
            return 401, {"message": "Bad credentials"}
        user = self.tokens[token]
        prefix = f"/repos/{self.repo}"
        if path == "/user":
            if user is None:
                return 403, {"message": "Resource not accessible by integration"}
            return 200, {"login": user, "url": f"{self.base}/users/{user}"}
        user = user or "github-actions[bot]"
        if path == prefix:
            return 200, self.repo_json()
        if path == f"{prefix}/issues" and method == "GET":
            state = query.get("state", ["open"])[0]
            labels = set(query.get("labels", [""])[0].split(",")) - {""}
            creator = query.get("creator", [None])[0]
            found = [
                self.issue_json(n) for n, i in sorted(self.issues.items())
                if i["state"] == state and labels <= set(i["labels"])
                and creator in (None, i["user"])
            ]  # fmt: skip
            return 200, found
        if path == f"{prefix}/issues" and method == "POST":
            number = self._id()
            self.issues[number] = {
                "title": body["title"],
                "body": body.get("body", ""),
                "state": "open",
                "labels": list(body.get("labels", [])),
                "user": user,
            }
            return 201, self.issue_json(number)
        match = re.fullmatch(rf"{prefix}/issues/(\d+)", path)
        if match:
            number = int(match.group(1))
            if method == "PATCH":
                self.issues[number].update(
                    {k: v for k, v in body.items() if k in ("body", "state", "title")}
                )
            return 200, self.issue_json(number)
        match = re.fullmatch(rf"{prefix}/issues/(\d+)/comments", path)
        if match:
            number = int(match.group(1))
            if method == "POST":
                cid = self._id()
                self.comments[cid] = {"issue": number, "body": body["body"], "user": user}
                return 201, self.comment_json(cid)
            return 200, [
                self.comment_json(c)
                for c, v in sorted(self.comments.items())
                if v["issue"] == number
            ]
        match = re.fullmatch(rf"{prefix}/issues/comments/(\d+)", path)
        if match and method == "PATCH":
            cid = int(match.group(1))
            self.comments[cid]["body"] = body["body"]
            return 200, self.comment_json(cid)
        return 404, {"message": "Not Found"}


@contextmanager
def fake_github(repo: str = "tbcoin/tbcoin-engine-ml") -> Iterator[FakeGitHub]:
    state = FakeGitHub(repo)

    def handle(method: str, path: str, headers: Any, body: Any) -> tuple[int, Any]:
        url = urlparse(path)
        token = (headers.get("Authorization") or "").removeprefix("token ")
        return state.handle(method, url.path, parse_qs(url.query), body or {}, token)

    with loopback_server(handle) as base:
        state.base = base
        yield state
