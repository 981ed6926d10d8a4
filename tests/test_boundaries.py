"""Shapes at the boundaries (issue 35.3): what a stack file's YAML can say beyond plain data,
and what an API server can answer beyond a Rollout, is one line naming where, never a traceback,
and `rollout promote` patches nothing it has not read and checked."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError
from infractl.stackfile import read_stack_file
from tests.conftest import REPO, infractl

STAGING = (REPO / "Pulumi.staging.yaml").read_text()


def _stack(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(STAGING.replace("config:\n", f"config:\n{lines}", 1))
    return path


# Each YAML shape, and what the one line says about it.
SHAPES = {
    "binary value": ("  tbcoin-platform:note: !!binary aGVsbG8=\n", "the tag !!binary is not"),
    "binary deep": ("  tbcoin-platform:zz:\n    x: [!!binary aGVsbG8=]\n", "!!binary"),
    "set": ("  tbcoin-platform:x: !!set {a, b}\n", "the tag !!set is not accepted"),
    "timestamp": ("  tbcoin-platform:x: !!timestamp 2024-01-01\n", "the tag !!timestamp"),
    "ordered map": ("  tbcoin-platform:x: !!omap [a: 1]\n", "the tag !!omap"),
    "pairs": ("  tbcoin-platform:x: !!pairs [a: 1]\n", "the tag !!pairs"),
    "binary key": ("  ? !!binary aGVsbG8=\n  : 1\n", "the tag !!binary"),
    "null key": ("  ~: 1\n", "line 5: key '~' is null, not a string"),
    "null key deep": ("  tbcoin-platform:zz:\n    null: 1\n", "line 6: key 'null' is null"),
    "boolean key": ("  true: 1\n", "line 5: key 'true' is a boolean, not a string"),
    "boolean key deep": (
        "  tbcoin-platform:zz:\n    False: {}\n",
        "key 'False' is a boolean",
    ),
    "number key": ("  5: 1\n", "key '5' is a number, not a string; quote it (\"5\")"),
    "list key": ("  ? [a]\n  : 1\n", "found unhashable key"),
    "python object": ("  x: !!python/object:os.system ls\n", "could not determine a constructor"),
    "custom tag": ("  x: !Ref other\n", "could not determine a constructor for the tag '!Ref'"),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_stack_file_beyond_plain_data_is_one_line(shape: str, tmp_path: Path) -> None:
    lines, said = SHAPES[shape]
    with pytest.raises(ConfigError) as caught:
        read_stack_file(_stack(tmp_path, lines))
    rendered = caught.value.render()
    assert rendered.startswith("Pulumi.staging.yaml: ") and said in rendered, rendered
    assert "\n" not in rendered


def test_the_cli_says_it_and_writes_nothing(tmp_path: Path) -> None:
    path = _stack(tmp_path, "  tbcoin-platform:zz:\n    x: !!binary aGVsbG8=\n")
    run = infractl("synth", "--stack", "staging", "--config-file", path, "--out", tmp_path / "o")
    assert run.code == 2 and run.stdout == "", run
    assert run.stderr.count("\n") == 1 and "the tag !!binary is not accepted" in run.stderr
    assert not (tmp_path / "o").exists()


def test_plain_forms_still_read_as_before(tmp_path: Path) -> None:
    """`!!str`, quoted keys and dates as plain strings are data, and stay accepted."""
    stack = read_stack_file(
        _stack(tmp_path, '  tbcoin-platform:x: !!str 2024-01-01\n  "5": 1\n  "null": 2\n')
    )
    assert stack.config["tbcoin-platform:x"] == "2024-01-01"
    assert stack.config["tbcoin-platform:5"] == "1"


# --- what an API server answers ----------------------------------------------------------------


@contextmanager
def raw_server(answers: dict[str, bytes | None]) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server that answers each method with fixed raw bytes (None: accept the request and
    never answer); yields its URL and the request lines it received."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    seen: list[str] = []
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
            while len(rest) < length:
                rest += conn.recv(65536)
            line = head.split(b"\r\n")[0].decode()
            seen.append(line)
            answer = answers.get(line.split()[0])
            if answer is None:
                held.append(conn)  # never answered
                continue
            conn.sendall(answer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        listener.close()
        for conn in held:
            conn.close()


def _http(body: bytes, content_type: str = "application/json") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def _kubeconfig(tmp_path: Path, server: str) -> dict[str, str]:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: tbcoin-prod\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "contexts: [{name: tbcoin-prod, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    return {"KUBECONFIG": str(path)}


ROLLOUT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "inference", "namespace": "tbcoin-prod"},
    "spec": {"strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}}]}}},
    "status": {"phase": "Paused", "currentStepIndex": 1,
               "pauseConditions": [{"reason": "CanaryPauseStep",
                                    "startTime": "2026-12-07T10:00:00Z"}]},
}  # fmt: skip
ANSWERS = {
    "an HTML page": _http(b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    "a list": _http(b"[]"),
    "null": _http(b"null"),
    "status as a string": _http(json.dumps({**ROLLOUT, "status": "Healthy"}).encode()),
    "steps as a mapping": _http(
        json.dumps({**ROLLOUT, "spec": {"strategy": {"canary": {"steps": {"a": 1}}}}}).encode()
    ),
    "a step index as text": _http(
        json.dumps({**ROLLOUT, "status": {"currentStepIndex": "two"}}).encode()
    ),
    "another kind": _http(json.dumps({**ROLLOUT, "kind": "Deployment"}).encode()),
    "not JSON": _http(b'{"kind": "Rollout", '),
}


@pytest.fixture
def rollout_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str, str], tuple[int, str, str]]:
    """`infractl rollout ACTION --stack prod --service inference` in this process, against the
    server at a URL: (exit code, stdout, stderr)."""
    from infractl.cli import main

    monkeypatch.chdir(REPO)

    def run(action: str, url: str) -> tuple[int, str, str]:
        for key, value in _kubeconfig(tmp_path, url).items():
            monkeypatch.setenv(key, value)
        code = main(["rollout", action, "--stack", "prod", "--service", "inference"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_an_answer_that_is_no_rollout_is_one_line_and_nothing_is_patched(
    answer: str, rollout_cli: Callable[[str, str], tuple[int, str, str]]
) -> None:
    patched = _http(json.dumps(ROLLOUT).encode())
    with raw_server({"GET": ANSWERS[answer], "PATCH": patched}) as (url, seen):
        for action in ("status", "promote"):
            code, out, err = rollout_cli(action, url)
            assert code == 2 and out == "", err
            assert err.startswith("infractl: rollout tbcoin-prod/inference: the API ")
            assert "not a Rollout" in err and err.count("\n") == 1, err
    assert [line.split()[0] for line in seen] == ["GET", "GET"], "promote patched what it read"


def test_a_malformed_answer_to_a_patch_says_the_patch_was_sent(
    rollout_cli: Callable[[str, str], tuple[int, str, str]],
) -> None:
    """The operator must know whether the promotion happened."""
    read = _http(json.dumps(ROLLOUT).encode())
    with raw_server({"GET": read, "PATCH": _http(b"null")}) as (url, seen):
        code, _, err = rollout_cli("promote", url)
    assert code == 2, err
    assert "the patch was sent, but the API server's answer is not a Rollout" in err
    assert [line.split()[0] for line in seen] == ["GET", "PATCH"]


def test_a_server_that_never_answers_is_an_error_not_a_hang(
    rollout_cli: Callable[[str, str], tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from infractl.ops import rollouts

    monkeypatch.setattr(rollouts, "REQUEST_TIMEOUT", (1.0, 1.0))
    with raw_server({}) as (url, seen):
        code, _, err = rollout_cli("status", url)
    assert code == 2 and "Read timed out" in err, err
    assert len(seen) == 1, "a request the server took is not sent again"


def test_a_server_that_drips_its_answer_is_stopped_at_the_calls_deadline(
    rollout_cli: Callable[[str, str], tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read gets a byte within the read time-out, so only a deadline for the whole call
    ends it."""
    from infractl.ops import rollouts

    monkeypatch.setattr(rollouts, "REQUEST_DEADLINE", 2.0)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def drip() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(100000):
                conn.sendall(b" ")
                time.sleep(0.2)

    threading.Thread(target=drip, daemon=True).start()
    try:
        code, _, err = rollout_cli("status", f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()
    assert code == 2 and "did not finish its answer within 2 s" in err, err
