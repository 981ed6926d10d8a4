"""The two writes the operations tools make on GitHub, through PyGithub: one sticky PR comment,
and one drift issue per stack. Both find their earlier self instead of adding new ones, and only
among what the token's own user wrote: a marker copied into someone else's comment or issue is
ignored, so nobody can hijack or block them. Every API failure is one GitHubError line."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from github import Auth, Github, GithubException

from infractl.errors import InfractlError

DRIFT_LABEL = "drift"
API = "https://api.github.com"
# The Actions token cannot call GET /user ("Resource not accessible by integration"); its
# comments and issues are written by this user.
ACTIONS_BOT = "github-actions[bot]"


class GitHubError(InfractlError):
    """Setup or API failure, as one line without the token."""


@dataclass
class GitHubTarget:
    repository: str  # owner/name
    token: str
    base_url: str = API
    author: str = ""  # the token's login; asked from GET /user when empty

    @classmethod
    def from_env(cls, repository: str | None, author: str | None = None) -> GitHubTarget:
        repo = repository or os.environ.get("GITHUB_REPOSITORY")
        token = os.environ.get("GITHUB_TOKEN")
        if not repo:
            raise GitHubError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set")
        author = author or os.environ.get("INFRACTL_GITHUB_AUTHOR", "")
        return cls(repo, token, os.environ.get("GITHUB_API_URL", API), author)

    def client(self) -> Github:
        return Github(auth=Auth.Token(self.token), base_url=self.base_url, retry=None, timeout=30)

    def login(self, client: Github) -> str:
        if self.author:
            return self.author
        try:
            return client.get_user().login
        except GithubException as exc:
            raise GitHubError(
                f"cannot tell which user the token belongs to (GET /user: {exc.status}); pass "
                f"--author LOGIN (for the Actions token: {ACTIONS_BOT})"
            ) from None


@contextmanager
def api_errors(target: GitHubTarget, action: str) -> Iterator[None]:
    """Turn PyGithub and connection failures into one line naming what was being done."""
    try:
        yield
    except GithubException as exc:
        data = exc.data if isinstance(exc.data, dict) else {}
        message = exc.message or data.get("message")
        detail = f": {str(message).splitlines()[0][:200]}" if message else ""
        raise GitHubError(f"GitHub API: {action} failed with {exc.status}{detail}") from None
    except requests.RequestException as exc:
        raise GitHubError(
            f"GitHub API: {action} failed: cannot reach {target.base_url} ({type(exc).__name__})"
        ) from None


def upsert_sticky_comment(target: GitHubTarget, pr: int, body: str, marker: str) -> str:
    """Edit our own PR comment carrying `marker`, or create it; returns "created" or "updated"."""
    with api_errors(target, f"updating the comment on PR #{pr} of {target.repository}"):
        client = target.client()
        login = target.login(client)
        issue = client.get_repo(target.repository).get_issue(pr)
        for comment in issue.get_comments():
            if comment.user.login == login and marker in (comment.body or ""):
                comment.edit(body)
                return "updated"
        issue.create_comment(body)
        return "created"


# Given the body of the stack's open drift issue (None if there is none), the new title and body,
# or None when there is no drift any more.
IssueUpdate = Callable[[str | None], tuple[str, str] | None]


def sync_drift_issue(target: GitHubTarget, marker: str, update: IssueUpdate) -> str:
    """Open, update or close the single drift issue carrying `marker`; returns what it did."""
    with api_errors(target, f"syncing the drift issue of {target.repository}"):
        client = target.client()
        login = target.login(client)
        repo = client.get_repo(target.repository)
        # PyGithub's stub says NamedUser, its code takes a login string as the API does.
        issues = repo.get_issues(state="open", labels=[DRIFT_LABEL], creator=login)  # type: ignore[arg-type]
        existing = next(
            (i for i in issues if i.user.login == login and marker in (i.body or "")), None
        )
        content = update(existing.body if existing is not None else None)
        if content is not None:
            title, body = content
            if existing is None:
                repo.create_issue(title=title, body=body, labels=[DRIFT_LABEL])
                return "opened"
            existing.edit(title=title, body=body)
            return "updated"
        if existing is not None:
            existing.create_comment("No drift any more: the stack's resources match its state.")
            existing.edit(state="closed", state_reason="completed")
            return "closed"
        return "nothing to do"
