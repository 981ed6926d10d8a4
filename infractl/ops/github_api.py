"""The project's one GitHub REST client, and the two writes the operations tools make with it.

`requests` (PyGithub's own transport) rather than PyGithub's object model: adopt and ruleset drift
read endpoints PyGithub does not wrap (rulesets with bypass actors, selected actions, workflow
token permissions, automated security fixes), and every caller needs what its objects hide: the
`Link`, `X-RateLimit-*`, `Retry-After` and `X-Accepted-GitHub-Permissions` headers, and a count
of the requests made. Tested against GitHub's own API description
(docs/internals/github-api-standin.md).

The interface, for every caller (preview comment, drift issue, adopt, ruleset drift):
- `GitHubApi.from_env()`: token from `GITHUB_TOKEN`, base URL from `GITHUB_API_URL` (as GitHub
  Actions and GHES set it; default the public API);
- `get(path)` one JSON answer (`None` for a 404 with `missing_ok`), `exists(path)` for the
  endpoints that answer by status (204 or 404), `paginate(path)` every item of a list (following
  `Link: rel="next"`, on the same host only), `post`/`patch`;
- `sent`: how many requests were sent.
Every failure is a `GitHubError`: one line, never the token, exit 2. A rate limit is waited out when
it resets within `max_wait` seconds (said on stderr), otherwise it stops with when to run again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from infractl.errors import InfractlError
from secret_patterns import redact

DRIFT_LABEL = "drift"
API = "https://api.github.com"
# The Actions token cannot call GET /user ("Resource not accessible by integration"); its
# comments and issues are written by this user.
ACTIONS_BOT = "github-actions[bot]"
# (connect, read) seconds: every request has a deadline.
TIMEOUT = (10.0, 30.0)
PER_PAGE = 100
MAX_PAGES = 100  # 10,000 items: a server that keeps sending `next` is not followed forever
RATE_LIMIT_RETRIES = 3


class GitHubError(InfractlError):
    """Setup or API failure, as one line without the token."""


class ApiFailure(GitHubError):
    """An answer other than success: its status, GitHub's message, and the permission GitHub
    says the request needs (`X-Accepted-GitHub-Permissions`), if any."""

    def __init__(self, line: str, status: int, message: str, permission: str = "") -> None:
        super().__init__(line)
        self.status, self.message, self.permission = status, message, permission


def _say(line: str) -> None:
    print(f"infractl: {line}", file=sys.stderr)


@dataclass
class GitHubApi:
    token: str
    base_url: str = API
    # A rate limit that resets within this many seconds is waited out; a later one stops.
    max_wait: float = 60.0
    say: Callable[[str], None] = _say
    sleep: Callable[[float], None] = time.sleep
    sent: int = 0  # requests sent
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    @classmethod
    def from_env(cls) -> GitHubApi:
        token = os.environ.get("GITHUB_TOKEN")
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set")
        base = os.environ.get("GITHUB_API_URL") or API
        if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
            raise GitHubError(f"GITHUB_API_URL {redact(base)!r} is not an http(s) URL")
        return cls(token, base.rstrip("/"))

    def _clean(self, text: str) -> str:
        """`text` safe to print: without the token, whatever its format."""
        return redact(text.replace(self.token, "[redacted]") if self.token else text)

    def _url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}{path}"

    def _same_origin(self, url: str) -> bool:
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc) and (
            theirs.path.startswith(ours.path)
        )

    def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> requests.Response:
        """One request, rate limits waited out or reported; any answer below 400 is returned."""
        url = self._url(path)
        shown = self._clean(urlsplit(url).path)
        for _attempt in range(RATE_LIMIT_RETRIES + 1):
            self.sent += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                    headers={
                        "Authorization": f"Bearer {self.token}",
                        "Accept": "application/vnd.github+json, application/json",
                        "X-GitHub-Api-Version": "2022-11-28",
                    },
                )
            except requests.RequestException as exc:
                raise GitHubError(
                    f"GitHub API: {method} {shown}: cannot reach {self._clean(self.base_url)} "
                    f"({type(exc).__name__})"
                ) from None
            wait = _rate_limit_wait(response)
            if wait is None:
                break
            if wait > self.max_wait:
                resets = datetime.fromtimestamp(time.time() + wait, UTC).strftime("%H:%M UTC")
                raise ApiFailure(
                    f"GitHub API: {method} {shown}: rate limit exhausted until {resets} (in "
                    f"{wait / 60:.0f} min); stopped before writing anything: run the same "
                    "command again after that",
                    response.status_code,
                    "rate limit",
                )
            self.say(f"GitHub rate limit reached: waiting {wait:.0f} s as GitHub asks")
            self.sleep(wait)
        if response.status_code >= 400:
            raise self._failure(method, shown, response)
        return response

    def _failure(self, method: str, shown: str, response: requests.Response) -> ApiFailure:
        try:
            data = response.json()
        except ValueError:
            data = {}
        message = str(data.get("message") or "") if isinstance(data, dict) else ""
        message = self._clean(message.splitlines()[0][:200]) if message else ""
        permission = self._clean(response.headers.get("X-Accepted-GitHub-Permissions", ""))
        status = response.status_code
        line = f"GitHub API: {method} {shown}: {status}" + (f" {message}" if message else "")
        if permission:
            line += f" (the token needs the permission {permission})"
        elif status == 401:
            line += " (is GITHUB_TOKEN valid?)"
        return ApiFailure(line, status, message, permission)

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        """The JSON answer of GET `path`; None for a 404 when `missing_ok`."""
        try:
            return self.request("GET", path, params).json()
        except ApiFailure as exc:
            if missing_ok and exc.status == 404:
                return None
            raise

    def exists(self, path: str) -> bool:
        """For the endpoints that answer 204 (on, or present) or 404 (off, or absent)."""
        try:
            self.request("GET", path)
        except ApiFailure as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, key: str | None = None
    ) -> list[Any]:
        """Every item of a listed collection; `key` names the list in an enveloped answer
        (`{"total_count": .., "environments": [..]}`)."""
        items: list[Any] = []
        url: str | None = self._url(path)
        query: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        for _page in range(MAX_PAGES):
            assert url is not None
            response = self.request("GET", url, query)
            data = response.json()
            page = data.get(key, []) if key and isinstance(data, dict) else data
            if not isinstance(page, list):
                raise GitHubError(f"GitHub API: GET {urlsplit(url).path}: not a list")
            items += page
            url = response.links.get("next", {}).get("url")
            if not url:
                return items
            if not self._same_origin(url):
                raise GitHubError(
                    f"GitHub API: GET {urlsplit(self._url(path)).path}: the next page is on "
                    f"another host ({self._clean(urlsplit(url).netloc)}); not followed, the "
                    "token would go with it"
                )
            query = None  # the next link carries the query
        raise GitHubError(
            f"GitHub API: GET {urlsplit(self._url(path)).path}: more than {MAX_PAGES} pages"
        )

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body=body).json()

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body=body).json()


def _rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds GitHub asks to wait before retrying, if the answer is a rate limit."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None and retry_after.strip().isdigit():
        return float(retry_after)
    if response.headers.get("X-RateLimit-Remaining") == "0":
        reset = response.headers.get("X-RateLimit-Reset", "")
        if reset.strip().isdigit():
            return max(0.0, float(reset) - time.time()) + 1.0
    return None


# --- the operations tools' two writes ----------------------------------------------------------


@dataclass
class GitHubTarget:
    repository: str  # owner/name
    api: GitHubApi
    author: str = ""  # the token's login; asked from GET /user when empty

    @classmethod
    def from_env(cls, repository: str | None, author: str | None = None) -> GitHubTarget:
        repo = repository or os.environ.get("GITHUB_REPOSITORY")
        if not repo:
            raise GitHubError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
        api = GitHubApi.from_env()
        return cls(repo, api, author or os.environ.get("INFRACTL_GITHUB_AUTHOR", ""))

    def login(self) -> str:
        if self.author:
            return self.author
        try:
            return str(self.api.get("/user")["login"])
        except ApiFailure as exc:
            raise GitHubError(
                f"cannot tell which user the token belongs to (GET /user: {exc.status}); pass "
                f"--author LOGIN (for the Actions token: {ACTIONS_BOT})"
            ) from None


@contextmanager
def api_errors(action: str) -> Iterator[None]:
    """Name what was being done in an API failure's one line."""
    try:
        yield
    except ApiFailure as exc:
        detail = f": {exc.message}" if exc.message else ""
        needs = f" (the token needs the permission {exc.permission})" if exc.permission else ""
        raise GitHubError(f"GitHub API: {action} failed with {exc.status}{detail}{needs}") from None


def _own(item: dict[str, Any], login: str, marker: str) -> bool:
    return (item.get("user") or {}).get("login") == login and marker in (item.get("body") or "")


def upsert_sticky_comment(target: GitHubTarget, pr: int, body: str, marker: str) -> str:
    """Edit our own PR comment carrying `marker`, or create it; returns "created" or "updated"."""
    with api_errors(f"updating the comment on PR #{pr} of {target.repository}"):
        login = target.login()
        issue = f"/repos/{target.repository}/issues/{pr}"
        for comment in target.api.paginate(f"{issue}/comments"):
            if _own(comment, login, marker):
                target.api.patch(
                    f"/repos/{target.repository}/issues/comments/{comment['id']}", {"body": body}
                )
                return "updated"
        target.api.post(f"{issue}/comments", {"body": body})
        return "created"


# Given the body of the stack's open drift issue (None if there is none), the new title and body,
# or None when there is no drift any more.
IssueUpdate = Callable[[str | None], tuple[str, str] | None]


def sync_drift_issue(target: GitHubTarget, marker: str, update: IssueUpdate) -> str:
    """Open, update or close the single drift issue carrying `marker`; returns what it did."""
    with api_errors(f"syncing the drift issue of {target.repository}"):
        login = target.login()
        issues = f"/repos/{target.repository}/issues"
        listed = target.api.paginate(
            issues, {"state": "open", "labels": DRIFT_LABEL, "creator": login}
        )
        existing = next(
            (i for i in listed if "pull_request" not in i and _own(i, login, marker)), None
        )
        content = update(existing["body"] if existing is not None else None)
        if content is not None:
            title, body = content
            if existing is None:
                target.api.post(issues, {"title": title, "body": body, "labels": [DRIFT_LABEL]})
                return "opened"
            target.api.patch(f"{issues}/{existing['number']}", {"title": title, "body": body})
            return "updated"
        if existing is not None:
            number = existing["number"]
            target.api.post(
                f"{issues}/{number}/comments",
                {"body": "No drift any more: the stack's resources match its state."},
            )
            target.api.patch(f"{issues}/{number}", {"state": "closed", "state_reason": "completed"})
            return "closed"
        return "nothing to do"
