"""A tiny stand-in for the GitHub REST API on loopback: just the issue and comment endpoints the
operations tools use, so PyGithub's real requests can be tested without GitHub."""

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
            "labels": [{"name": n} for n in issue["labels"]],
            "url": f"{self.base}/repos/{self.repo}/issues/{number}",
            "comments_url": f"{self.base}/repos/{self.repo}/issues/{number}/comments",
        }

    def comment_json(self, cid: int) -> dict[str, Any]:
        comment = self.comments[cid]
        return {
            "id": cid,
            "body": comment["body"],
            "url": f"{self.base}/repos/{self.repo}/issues/comments/{cid}",
        }

    def add_pull_request(self, number: int) -> None:
        self.issues[number] = {"title": "a PR", "body": "", "state": "open", "labels": []}

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self.requests.append((method, path))
        prefix = f"/repos/{self.repo}"
        if path == prefix:
            return 200, self.repo_json()
        if path == f"{prefix}/issues" and method == "GET":
            state = query.get("state", ["open"])[0]
            labels = set(query.get("labels", [""])[0].split(",")) - {""}
            found = [
                self.issue_json(n) for n, i in sorted(self.issues.items())
                if i["state"] == state and labels <= set(i["labels"])
            ]  # fmt: skip
            return 200, found
        if path == f"{prefix}/issues" and method == "POST":
            number = self._id()
            self.issues[number] = {
                "title": body["title"],
                "body": body.get("body", ""),
                "state": "open",
                "labels": list(body.get("labels", [])),
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
                self.comments[cid] = {"issue": number, "body": body["body"]}
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
        return state.handle(method, url.path, parse_qs(url.query), body or {})

    with loopback_server(handle) as base:
        state.base = base
        yield state
