"""Credentials are hidden by their shape in everything `infractl` prints or posts, whichever
printer and wherever in the text they stand (a resource name, a URN, a JSON string, a live value,
a cluster message, an exec plugin's stderr, an error message), while identifiers (digests, commit
SHAs, URNs, names) stay readable. One corpus of credential shapes is run across every printer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from secret_patterns import redact, token_format
from tests.conftest import infractl
from tests.fake_kubernetes import FakeKubernetes, exec_kubeconfig

# Fake credentials, assembled so this file holds none verbatim: (kind, value, the secret part
# that must never be shown, even in part).
_PEM_BODY = [
    "MIIEowIBAAKCAQEA7ZqXbK2mN8pQ4rT6vW9yB1cE3fH5jL7nP0sU2wY4aC6eG8iK0mO2qS4uW6yA8c",
    "Dq3hJ5lN7pR9tV1xZ3bD5fH7jL9nP1rT3vX5zB7dF9hJ1lN3pR5tV7xZ9bD1fH3jL5nP7rT9vX1z",
]
_RANDOM = "x9F2kLm8Qz7Rt4Vw1Yb6Nc3Hd5Jg0Ps2Ua"
_JWT_SIGNATURE = "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
_GOOGLE = "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
_SENDGRID = "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"
_RSA = "\n".join(
    ["-----BEGIN RSA " + "PRIVATE KEY-----", *_PEM_BODY, "-----END RSA PRIVATE KEY-----"]
)
_OPENSSH = "\n".join(
    ["-----BEGIN OPENSSH " + "PRIVATE KEY-----", _PEM_BODY[1], "-----END OPENSSH PRIVATE KEY-----"]
)
CORPUS: list[tuple[str, str, str]] = [
    ("GitHub classic", "ghp_" + "a1B2c3D4" * 5, "a1B2c3D4" * 5),
    ("GitHub fine-grained", "github_pat_" + "11ABCDEFG0" * 8, "11ABCDEFG0" * 8),
    ("AWS access key id", "AKIA" + "IOSFODNN7EXAMPL1", "IOSFODNN7EXAMPL1"),
    ("AWS secret key", "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzEXAMPLEKEY9", "bPxRfiCYzEXAMPLEKEY9"),
    ("Slack token", "xoxb-" + "1234567890-9876543210-abcdefghij1234", "abcdefghij1234"),
    (
        "Slack webhook",
        "https://hooks.slack.com/services/T0001/B0002/" + "Xy9Zz8Ww7Vv6",
        "Xy9Zz8Ww7Vv6",
    ),
    ("Pulumi token", "pul-" + "0123456789abcdef" * 2 + "fedcba98", "0123456789abcdef" * 2),
    (
        "JWT",
        "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + _JWT_SIGNATURE,
        _JWT_SIGNATURE,
    ),
    ("GitLab token", "glpat-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn", "Ab1Cd2Ef3Gh4Ij5Kl6Mn"),
    ("npm token", "npm_" + "a1B2c3D4e5F6" * 3, "a1B2c3D4e5F6" * 3),
    ("Stripe key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("Google API key", "AIza" + _GOOGLE, _GOOGLE),
    ("SendGrid key", "SG." + "ngeVfQFYQlKU0ufo8x5d1A." + _SENDGRID, _SENDGRID),
    ("password in a URL", "postgres://admin:" + "Hunter2-xK9@db.example:5432/app", "Hunter2-xK9"),
    ("RSA private key", _RSA, _PEM_BODY[1]),
    ("OpenSSH private key", _OPENSSH, _PEM_BODY[1]),
    ("random token", _RANDOM, _RANDOM),
    ("random hex key", "9a3f" + "e7c2b8d1" * 4, "e7c2b8d1" * 4),
    # Hex keys behind a vendor's prefix, which no format detector knows (hostile round 6).
    (
        "prefixed hex key",
        "dapi" + "347428c3dd46c036bb3a62f301f46536",
        "347428c3dd46c036bb3a62f301f46536",
    ),
    (
        "prefixed digest-long key",
        "dop_v1_" + "63367c29a80b21ead8f0" * 3 + "2edc",
        "63367c29a80b21ead8f0",
    ),
]

_DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_COMMIT = "8e5e7e5ab8b370d6c329ec480221332ada57f0ab"
# What must stay as it is: digests, pins, URNs, generated names, UUIDs, the engine's signatures.
READABLE = [
    f"ghcr.io/tbcoin/engine@sha256:{_DIGEST}",
    f"uses: actions/checkout@{_COMMIT} # v4.1.1",
    f"commit {_COMMIT}",
    "urn:pulumi:prod::tbcoin-platform::kubernetes:argoproj.io/v1alpha1:Rollout::tbcoin-engine-prod",
    "/apis/argoproj.io/v1alpha1/namespaces/tbcoin-prod/rollouts/tbcoin-engine-canary",
    "pods/tbcoin-engine-prod-7f9c8d6b5-x2k4p scaled to 3",
    "uid 0f8fad5b-d9cb-469f-a165-70867728950e",
    '{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "x"}',
    "kube-prometheus-stack-67.4.0/templates/prometheus/rules-1.14/k8s.rules.container-cpu-usage",
    "spec.template.spec.containers[0].resources.limits.memory: 512Mi -> 4Mi",
    f"image tbcoin-engine-{_COMMIT} built",
]


def _leaks(output: str, secret: str) -> bool:
    """Whether any 10 characters of the secret part are in the output."""
    return any(secret[i : i + 10] in output for i in range(len(secret) - 9))


def _placements(value: str) -> Iterator[tuple[str, str]]:
    yield "alone", value
    yield "in a resource name", f"repo-{value}-prod"
    yield "in a URN", f"urn:pulumi:prod::p::github:index/repository:Repository::x-{value}"
    yield "in a JSON string", json.dumps({"description": f"value {value} here"})
    yield "in a sentence", f"error: could not log in with {value}."


@pytest.mark.parametrize(("kind", "value", "secret"), CORPUS, ids=[c[0] for c in CORPUS])
def test_every_shape_is_hidden_wherever_it_stands(kind: str, value: str, secret: str) -> None:
    for where, text in _placements(value):
        shown = redact(text)
        assert not _leaks(shown, secret), f"{kind} {where}: {shown}"
        assert "[redacted]" in shown


def test_a_private_key_is_hidden_whole_even_when_cut() -> None:
    key = _RSA
    shown = redact(f"before\n{key}\nafter")
    assert shown == "before\n[redacted]\nafter"
    cut = redact("key: " + key[:120])  # a message cut short: no END line
    assert cut == "key: [redacted]"
    assert not any(line in cut for line in _PEM_BODY)


@pytest.mark.parametrize("text", READABLE)
def test_identifiers_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_the_programs_own_output_has_nothing_to_hide(synthesized: Callable[[str], Path]) -> None:
    """Every name, label, digest, pin and rule of both stacks' synth output passes unchanged."""
    for stack in ("prod", "staging"):
        for path in sorted(synthesized(stack).rglob("*")):
            if path.is_file():
                text = path.read_text()
                assert redact(text) == text, path


def test_the_engine_signatures_are_the_sdks() -> None:
    from pulumi.runtime import rpc

    from secret_patterns.detector import PULUMI_SIGNATURES

    names = [n for n in dir(rpc) if n.startswith("_special_") and n.endswith(("_sig", "_sig_key"))]
    assert {getattr(rpc, n) for n in names} == PULUMI_SIGNATURES


def test_the_config_names_the_format_it_refuses() -> None:
    assert token_format("ghp_" + "a1B2c3D4" * 5) == "GitHub Token"
    assert token_format("pul-" + "ab" * 20) == "Pulumi Access Token"
    assert token_format(READABLE[0]) is None


def test_the_pack_does_not_load_the_detector() -> None:
    """The pack imports secret_patterns for key names; detect-secrets (and requests) are not in
    its requirements and must not slow its start."""
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, 'policies'); import tbcoin_policies; "
        "from secret_patterns import is_credential_name; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('detect_secrets', 'requests', 'secret_patterns')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "['secret_patterns', 'secret_patterns.names']"


# --- every printer ------------------------------------------------------------------------------


def _event_log(tmp_path: Path) -> Path:
    """One changed resource per shape, the shape in its name, its live value, a diagnostic and a
    policy message."""
    events: list[dict[str, Any]] = []
    for i, (_, value, _) in enumerate(CORPUS):
        urn = f"urn:pulumi:dev::tbcoin-platform::github:index/repository:Repository::r{i}-{value}"
        sides = {
            s: {"id": f"r{i}", "inputs": {"description": f"{s} {value}"}} for s in ("old", "new")
        }
        meta = {"op": "update", "urn": urn, "type": "github:index/repository:Repository", **sides,
                "detailedDiff": {"description": {"diffKind": "update"}}}  # fmt: skip
        events += [
            {"resOutputsEvent": {"metadata": meta}},
            {"diagnosticEvent": {"severity": "error", "urn": urn, "message": f"failed: {value}"}},
            {"policyEvent": {"policyName": "p", "resourceUrn": urn, "message": f"saw {value}"}},
        ]
    log = tmp_path / "events.jsonl"
    # The summary counts what the events show, as the engine's does (or no printer reads it).
    summary = {"summaryEvent": {"resourceChanges": {"update": len(CORPUS)}}}
    log.write_text("\n".join(map(json.dumps, [*events, summary])) + "\n")
    return log


PRINTERS: dict[str, Callable[[Path, Path], list[str | Path]]] = {
    "preview-report markdown": lambda log, _: ["preview-report", "--event-log", log],
    "preview-report json": lambda log, _: [
        "preview-report", "--event-log", log, "--format", "json",
    ],
    "drift": lambda log, _: ["drift", "--stack", "dev", "--input", log],
    "preview-report section": lambda log, section: [
        "preview-report", "--event-log", log, "--section", section,
    ],
}  # fmt: skip


@pytest.mark.parametrize("printer", sorted(PRINTERS))
def test_engine_output_printers_hide_every_shape(printer: str, tmp_path: Path) -> None:
    section = tmp_path / "section.md"
    section.write_text("## scorecard\n\n" + "".join(f"- `{value}`\n" for _, value, _ in CORPUS))
    run = infractl(*PRINTERS[printer](_event_log(tmp_path), section))
    assert run.code in (0, 1), run
    for kind, _, secret in CORPUS:
        assert not _leaks(run.stdout + run.stderr, secret), (kind, run.stdout)


def test_the_check_is_sensitive_to_a_printer_that_does_not_redact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mutation: with the detector made blind, the same run shows the token: the check sees it."""
    from infractl.cli import main
    from secret_patterns import detector

    log, secret = _event_log(tmp_path), CORPUS[0][2]
    assert main(["preview-report", "--event-log", str(log)]) == 0
    assert not _leaks(capsys.readouterr().out, secret)
    monkeypatch.setattr(detector, "redact", lambda text: text)
    assert main(["preview-report", "--event-log", str(log)]) == 0
    assert _leaks(capsys.readouterr().out, secret)


def test_rollout_status_hides_every_shape_the_cluster_reports(
    rollout_cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = rollout_cluster
    rollout: dict[str, Any] = fake.rollouts[("tbcoin-prod", "inference")]
    values = " | ".join(value for _, value, _ in CORPUS)
    rollout["status"] = {
        "phase": "Degraded",
        "message": f"ProgressDeadlineExceeded: {values}",
        "canary": {"currentBackgroundAnalysisRunStatus": {
            "name": f"inference-{CORPUS[0][1]}", "status": "Error", "message": values}},
    }  # fmt: skip
    run = infractl("rollout", "status", "--stack", "prod", "--service", "inference", env=env)
    assert run.code == 1, run
    assert "message: ProgressDeadlineExceeded: [redacted] | [redacted] |" in run.stdout
    for kind, _, secret in CORPUS:
        assert not _leaks(run.stdout + run.stderr, secret), (kind, run.stdout)


def test_an_exec_plugins_stderr_is_redacted(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text(_RSA + "\n")
    kubeconfig = exec_kubeconfig(
        tmp_path, f"echo 'token {_RANDOM} rejected' >&2\ncat {tmp_path}/key.pem >&2\nexit 1"
    )
    run = infractl("rollout", "status", "--stack", "prod", "--service", "inference",
                   env={"KUBECONFIG": str(kubeconfig)})  # fmt: skip
    assert run.code == 2, run
    assert "token [redacted] rejected" in run.stderr
    assert not _leaks(run.stderr, _PEM_BODY[1]) and not _leaks(run.stderr, _RANDOM)


def test_error_messages_hide_what_they_quote(tmp_path: Path) -> None:
    _, value, secret = CORPUS[0]
    for args in (
        ["synth", "--stack", f"x-{value}", "--out", str(tmp_path / "out")],
        ["check", "--stack", "prod", "--config-file", str(tmp_path / f"{value}.yaml")],
        ["drift", "--stack", "prod", "--input", str(tmp_path / f"{value}.jsonl")],
    ):
        run = infractl(*args)
        assert run.code == 2, run
        assert "[redacted]" in run.stderr and not _leaks(run.stderr, secret), run.stderr


def test_a_control_character_inside_a_token_does_not_hide_it_from_markdown() -> None:
    """Markdown drops control characters: it does so before redacting, or the token it joins
    would be shown whole."""
    from infractl.markdown import code, text

    _, value, secret = CORPUS[0]
    split = value[:10] + "\x00" + value[10:]
    for shown in (text(split), code(split)):
        assert not _leaks(shown.replace("\\", ""), secret), shown
