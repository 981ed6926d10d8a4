"""No control character or escape sequence from the cluster, the engine or a plugin reaches the
terminal raw: a Rollout's `status.message` cannot clear the screen or set the window title."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

from infractl.terminal import inert, safe
from tests.conftest import REPO, infractl
from tests.fake_kubernetes import FakeKubernetes, exec_kubeconfig

# Clear the screen, set the window title, hide the cursor, rewrite the line, reverse the text.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x1b[?25l\rOK\u202edesrever\x9b31m\x00"


def _raw(text: str) -> list[str]:
    """The control characters in `text`, but newline and tab."""
    controls = {*range(0x00, 0x20), *range(0x7F, 0xA0), 0x202E}
    return [c for c in text if ord(c) in controls and c not in "\n\t"]


def test_controls_are_shown_not_acted_on() -> None:
    shown = inert(HOSTILE)
    assert _raw(shown) == []
    assert shown.startswith("\\u001b[2J\\u001b]0;pwned\\u0007")
    assert "\\u000dOK\\u202edesrever\\u009b31m\\u0000" in shown
    assert inert("line\n\ttabbed") == "line\n\ttabbed"


def test_an_escaped_control_stays_valid_json() -> None:
    """A C1 control that `json.dumps(ensure_ascii=False)` leaves raw is shown as the JSON escape
    of itself: the JSON on stdout still reads back the same."""
    document = json.dumps({"message": "a\x85b\u202ec"}, ensure_ascii=False)
    assert json.loads(safe(document)) == {"message": "a\x85b\u202ec"}
    assert _raw(safe(document)) == []


def test_rollout_status_shows_the_clusters_escapes_inert(
    rollout_cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = rollout_cluster
    rollout: dict[str, Any] = fake.rollouts[("tbcoin-prod", "inference")]
    rollout["status"] = {
        "phase": f"Degraded{HOSTILE}",
        "message": HOSTILE,
        "pauseConditions": [{"reason": HOSTILE, "startTime": "2026-12-07T10:00:00Z"}],
        "canary": {
            "currentBackgroundAnalysisRunStatus": {
                "name": HOSTILE,
                "status": "Error",
                "message": HOSTILE,
            }
        },
    }
    run = infractl("rollout", "status", "--stack", "prod", "--service", "inference", env=env)
    assert _raw(run.stdout + run.stderr) == [], run
    assert "message: \\u001b[2J\\u001b]0;pwned\\u0007" in run.stdout


def test_engine_text_is_inert_in_every_format(tmp_path: Path) -> None:
    urn = f"urn:pulumi:dev::p::t:m:T::name{HOSTILE}"
    events = [
        {"diagnosticEvent": {"severity": "error", "urn": urn, "message": HOSTILE}},
        {"policyEvent": {"policyName": HOSTILE, "resourceUrn": urn, "message": HOSTILE}},
        {"summaryEvent": {"resourceChanges": {}}},
    ]
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n")
    for fmt in ("markdown", "json"):
        run = infractl("preview-report", "--event-log", log, "--format", fmt)
        assert run.code == 0 and _raw(run.stdout + run.stderr) == [], run
    bad = tmp_path / f"{HOSTILE.rstrip(chr(0))}.jsonl"  # a path holds no NUL
    run = infractl("drift", "--stack", "prod", "--input", bad)
    assert run.code == 2 and _raw(run.stderr) == [] and "\\u001b]0;pwned" in run.stderr


def test_a_plugin_on_a_terminal_is_relayed_inert_and_redacted(tmp_path: Path) -> None:
    """On a terminal the kubernetes client hands an exec plugin the command's own stderr (for a
    login prompt); infractl reads it and copies it through its sanitizer and redactor."""
    token = "x9F2kLm8Qz7Rt4Vw1Yb6Nc3Hd5Jg0Ps2Ua"
    kubeconfig = exec_kubeconfig(
        tmp_path, f"printf '\\033]0;pwned\\007token {token}\\n' >&2\nexit 1"
    )
    main, child = pty.openpty()
    command = [sys.executable, "-m", "infractl.cli", "rollout", "status", "--stack", "prod",
               "--service", "inference"]  # fmt: skip
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=child, stderr=child)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the pty's other end closed
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 2
    os.close(main)
    text = seen.decode()
    assert "\x1b" not in text and "\x07" not in text, text
    assert token not in text and "token [redacted]" in text


def test_markdown_for_github_drops_what_would_reorder_or_act() -> None:
    """What is posted (a PR comment, an issue) never passes the terminal guard: Markdown text and
    code spans drop C1 controls and bidirectional overrides themselves."""
    from infractl.markdown import code, text

    for shown in (text(HOSTILE), code(HOSTILE)):
        assert _raw(shown) == [], shown
        assert "desrever" in shown
