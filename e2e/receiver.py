"""A webhook receiver on loopback, standing in for the Slack incoming webhook (or any webhook)
the Argo Rollouts controller's notification engine posts release notifications to. It records
every request as it came (method, path, headers, body), so a scenario checks the content the
controller sent, not that something arrived."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from e2e import loopback


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON; None when it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class WebhookReceiver:
    path: str = "/services/e2e/releases"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @contextlib.contextmanager
    def serving(self) -> Iterator[WebhookReceiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(
                        Received("POST", self.path, self.headers.get("Content-Type", ""), body)
                    )
                # What Slack's incoming webhook answers.
                self.send_response(200 if self.path == receiver.path else 404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        with loopback.serving(Handler, self.port) as self.port:
            yield self

    def since(self, index: int) -> list[Received]:
        with self._lock:
            return list(self.received[index:])

    def wait_for(
        self, matches: Callable[[Received], bool], since: int = 0, deadline: float = 120
    ) -> Received | None:
        """The first request from `since` on that `matches`, waited for up to `deadline`."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            found = next((r for r in self.since(since) if matches(r)), None)
            if found is not None:
                return found
            time.sleep(0.5)
        return None


# The stacks' Slack receiver reads its incoming-webhook URL from this variable (fromEnv); in the
# e2e run it is this run's receiver, so what the controller posts arrives here.
URL_ENV = "SLACK_ALERTS_WEBHOOK"


@functools.cache
def releases() -> WebhookReceiver:
    """The run's one receiver, on a port chosen before any stack resolves its secrets."""
    from e2e.controlplane import free_port

    return WebhookReceiver(port=free_port())
