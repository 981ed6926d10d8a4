"""The two writes the operations tools make on GitHub, through PyGithub: one sticky PR comment,
and one drift issue per stack. Both find their earlier self instead of adding new ones."""

from __future__ import annotations

import os
from dataclasses import dataclass

from github import Auth, Github

from infractl.errors import InfractlError

DRIFT_LABEL = "drift"
API = "https://api.github.com"


class GitHubSetupError(InfractlError):
    """No token or repository to talk to GitHub with."""


@dataclass
class GitHubTarget:
    repository: str  # owner/name
    token: str
    base_url: str = API

    @classmethod
    def from_env(cls, repository: str | None) -> GitHubTarget:
        repo = repository or os.environ.get("GITHUB_REPOSITORY")
        token = os.environ.get("GITHUB_TOKEN")
        if not repo:
            raise GitHubSetupError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
        if not token:
            raise GitHubSetupError("GITHUB_TOKEN is not set")
        return cls(repo, token, os.environ.get("GITHUB_API_URL", API))

    def client(self) -> Github:
        return Github(auth=Auth.Token(self.token), base_url=self.base_url, retry=None)


def upsert_sticky_comment(target: GitHubTarget, pr: int, body: str, marker: str) -> str:
    """Edit the PR comment carrying `marker`, or create it; returns "created" or "updated"."""
    issue = target.client().get_repo(target.repository).get_issue(pr)
    for comment in issue.get_comments():
        if marker in (comment.body or ""):
            comment.edit(body)
            return "updated"
    issue.create_comment(body)
    return "created"


def drift_title(stack: str) -> str:
    return f"Drift detected in stack `{stack}`"


def sync_drift_issue(target: GitHubTarget, stack: str, drifted: bool, body: str) -> str:
    """Open, update or close the single drift issue of `stack`; returns what it did."""
    repo = target.client().get_repo(target.repository)
    title = drift_title(stack)
    existing = next(
        (i for i in repo.get_issues(state="open", labels=[DRIFT_LABEL]) if i.title == title), None
    )
    if drifted:
        if existing is None:
            repo.create_issue(title=title, body=body, labels=[DRIFT_LABEL])
            return "opened"
        existing.edit(body=body)
        return "updated"
    if existing is not None:
        existing.create_comment("No drift any more: the stack matches its code.")
        existing.edit(state="closed", state_reason="completed")
        return "closed"
    return "nothing to do"
