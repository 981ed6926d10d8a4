"""Plain-text credentials are refused in every namespace and at any depth, and no message ever
quotes a value that is or may be a secret."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import stack
from infra.config import ConfigError, StackConfig, runtime_config, runtime_secret_keys
from infractl.stackfile import read_stack_file
from secret_patterns import is_credential_name
from tests.conftest import config_problems, infractl, load_stack, write_stack

# Fake credentials of well-known formats, assembled so this file holds none verbatim.
# Keyed by the kind the detector names (secret_patterns: detect-secrets' type names).
FAKE = {
    "GitHub Token": "ghp_" + "a1B2c3D4" * 5,
    "GitHub Token, fine-grained": "github_pat_" + "11ABCDEFG0" * 4,
    "AWS Access Key": "AKIA" + "IOSFODNN7EXAMPL1",
    "Slack Token": "xoxb-" + "1234567890-abcdefghij",
    "Slack Token, webhook": "https://hooks.slack.com/services/" + "T000/B000/XXXXXXXX",
    "Private Key": "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "Basic Auth Credentials": "https://deploy:" + "s3cr3t-pw@registry.example.com/v2",
    "Pulumi Access Token": "pul-" + "0123456789abcdef" * 2 + "01234567",
}
PASSWORD = "correct-horse-battery-staple"


def _put(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: config.__setitem__(key, value)


def _kubeconfig(user: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "prod", "cluster": {"server": "https://k8s.example.com"}}],
            "users": [{"name": "ci", "user": user}],
            "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "ci"}}],
        }
    )


REFUSED = {
    "provider token": (
        _put("github:token", PASSWORD),
        "github:token: looks like a credential in plain text",
    ),
    "kubeconfig with an embedded token": (
        _put("kubernetes:kubeconfig", _kubeconfig({"token": PASSWORD})),
        "kubernetes:kubeconfig.users[0].user.token: looks like a credential in plain text",
    ),
    "kubeconfig with an embedded client key": (
        _put("kubernetes:kubeconfig", _kubeconfig({"client-key-data": PASSWORD})),
        "kubernetes:kubeconfig.users[0].user.client-key-data: looks like a credential",
    ),
    "kubeconfig as a mapping": (
        _put("kubernetes:kubeconfig", {"users": [{"user": {"password": PASSWORD}}]}),
        "kubernetes:kubeconfig.users[0].user.password: looks like a credential",
    ),
    "plain value under secrets": (
        _put("tbcoin-platform:secrets", {"registry": PASSWORD}),
        "tbcoin-platform:secrets.registry: takes encrypted values only (`secure:`)",
    ),
    "secrets that are not a mapping": (
        _put("tbcoin-platform:secrets", PASSWORD),
        "tbcoin-platform:secrets: must be a mapping of name -> encrypted value",
    ),
    "docker registry password": (
        _put("docker:registryAuth", [{"address": "ghcr.io", "password": PASSWORD}]),
        "docker:registryAuth[0].password: looks like a credential in plain text",
    ),
    **{
        f"key named {name}": (
            _put(f"pulumi:{name}", PASSWORD),
            f"pulumi:{name}: looks like a credential in plain text",
        )
        for name in ("apiKey", "privateKey", "api_key", "accessKey", "access-key", "webhookUrl")
    },
    **{
        f"{kind} under an innocent key": (
            _put("github:description", {"nested": [value]}),
            f"github:description.nested[0]: looks like a credential ({kind.split(',')[0]}) in "
            "plain text",
        )
        for kind, value in FAKE.items()
    },
    "GitHub token in our own namespace": (
        lambda c: c["tbcoin-platform:github"]["repositories"]["tbcoin-engine-ml"].update(
            description=FAKE["GitHub Token"]
        ),
        "tbcoin-platform:github.repositories.tbcoin-engine-ml.description: looks like a "
        "credential (GitHub Token) in plain text",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_plain_credentials_are_refused_without_quoting_them(case: str, tmp_path: Path) -> None:
    mutate, expected = REFUSED[case]
    report = config_problems(mutate, tmp_path)
    assert f"Pulumi.prod.yaml: {expected}" in report, report
    assert "pulumi config set --secret" in report or "mapping" in report
    for secret in (PASSWORD, *FAKE.values()):
        for line in secret.splitlines():
            assert line not in report, report


ACCEPTED = {
    "encrypted secret": _put("tbcoin-platform:secrets", {"registry": {"secure": "v1:AAAA"}}),
    "encrypted provider token": _put("github:token", {"secure": "v1:AAAA"}),
    "kubeconfig as a path": _put("kubernetes:kubeconfig", "~/.kube/config"),
    "kubeconfig with an encrypted token": _put(
        "kubernetes:kubeconfig", {"users": [{"user": {"token": {"secure": "v1:AAAA"}}}]}
    ),
    "references to secrets": _put(
        "pulumi:refs",
        {"passwordKey": "pw", "tokenSecretRef": "t", "apiKeyEnv": "K", "fromSecret": "s"},
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_encrypted_values_and_references_pass(case: str, tmp_path: Path) -> None:
    assert config_problems(ACCEPTED[case], tmp_path) == ""


# The union of the names the config, drift severity and the policy pack each recognised before
# they shared one rule, and the references none of them may take for a credential.
CREDENTIAL_NAMES = [
    ("apiKey", True), ("APIKey", True), ("api_key", True), ("private_key", True),
    ("privateKey", True), ("client-key-data", True), ("routingKey", True), ("routing_key", True),
    ("token", True), ("authToken", True), ("password", True), ("adminPassword", True),
    ("passwd", True), ("passphrase", True), ("secret", True), ("secrets", True),
    ("credentials", True), ("accessKey", True), ("webhook", True), ("webhookUrl", True),
    ("webhook_url", True), ("dsn", True), ("passwordKey", False), ("apiKeyEnv", False),
    ("tokenSecretRef", False), ("existingSecret", False), ("fromSecret", False),
    ("secretName", False), ("password_file", False), ("key", False), ("monkey", False),
    ("description", False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "credential"), CREDENTIAL_NAMES)
def test_credential_names(name: str, credential: bool) -> None:
    assert is_credential_name(name) is credential


@pytest.mark.parametrize(("name", "credential"), CREDENTIAL_NAMES)
def test_drift_and_the_pack_take_the_same_names_for_credentials(
    name: str, credential: bool
) -> None:
    from infractl.ops.severity import is_secret
    from tbcoin_policies.monitoring import _credentials

    assert is_secret("kubernetes:core/v1:ConfigMap", f"data.{name}", ("a", "b")) is credential
    assert list(_credentials({"grafana": {name: "plain"}})) == (
        [f"grafana.{name}"] if credential else []
    )


def _refs(report: str) -> Iterator[str]:
    yield from (line for line in report.splitlines() if "grafanaAdmin" in line)


def test_a_password_where_a_secret_reference_belongs_is_not_printed(tmp_path: Path) -> None:
    report = config_problems(
        lambda c: c["tbcoin-platform:monitoring"].update(grafanaAdmin=PASSWORD), tmp_path
    )
    lines = list(_refs(report))
    assert lines == [
        "Pulumi.prod.yaml: tbcoin-platform:monitoring.grafanaAdmin: must be a mapping (got a "
        "value not shown: it may be a secret)"
    ], report
    assert PASSWORD not in report


def test_values_under_credential_keys_are_not_quoted_in_type_errors() -> None:
    flat = {
        "tbcoin-platform:environments": '{"p": {"namespace": "p", "tier": "production"}}',
        "tbcoin-platform:secrets": '{"registry": ["' + PASSWORD + '"]}',
    }
    with pytest.raises(ConfigError) as caught:
        stack.load_stack("Pulumi.x.yaml", flat, stack="x")
    assert "tbcoin-platform:secrets.registry: must be a string" in caught.value.render()
    assert PASSWORD not in caught.value.render()


def test_tokens_quoted_from_any_input_are_redacted() -> None:
    flat = {
        "tbcoin-platform:environments": '{"p": {"namespace": "p", "tier": "production"}}',
        "tbcoin-platform:kubernetes": '{"replicas": "' + FAKE["GitHub Token"] + '"}',
    }
    with pytest.raises(ConfigError) as caught:
        stack.load_stack("Pulumi.x.yaml", flat, stack="x")
    assert caught.value.render() == (
        "Pulumi.x.yaml: tbcoin-platform:kubernetes.replicas: must be an integer (got '[redacted]')"
    )


@pytest.fixture
def engine_config() -> Iterator[Callable[[dict[str, str], list[str]], None]]:
    from pulumi.runtime import config as runtime

    def set_config(flat: dict[str, str], secret_keys: list[str]) -> None:
        runtime.set_all_config(flat, secret_keys)

    yield set_config
    runtime.set_all_config({}, [])


def _from_engine() -> StackConfig:
    return stack.load_stack(
        "Pulumi.prod.yaml", runtime_config(), runtime_secret_keys(), stack="prod"
    )


def test_the_program_refuses_plain_credentials_the_engine_hands_it(
    engine_config: Callable[[dict[str, str], list[str]], None],
) -> None:
    base = read_stack_file(Path("Pulumi.prod.yaml")).config
    engine_config({**base, "github:token": PASSWORD}, [])
    with pytest.raises(ConfigError) as caught:
        _from_engine()
    assert caught.value.render().startswith("Pulumi.prod.yaml: github:token: looks like a")
    assert PASSWORD not in caught.value.render()
    # Set with `pulumi config set --secret`: the engine marks the key secret.
    engine_config({**base, "github:token": PASSWORD}, ["github:token"])
    assert _from_engine().github is not None


def test_the_cli_exits_2(tmp_path: Path) -> None:
    document = copy.deepcopy(load_stack("prod"))
    document["config"]["github:token"] = PASSWORD
    path = write_stack(tmp_path / "Pulumi.prod.yaml", document)
    run = infractl("synth", "--stack", "prod", "--config-file", path, "--out", tmp_path / "out")
    assert run.code == 2, run
    assert PASSWORD not in run.stdout + run.stderr
    assert "github:token: looks like a credential in plain text" in run.stderr
