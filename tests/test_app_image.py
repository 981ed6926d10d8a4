"""The app image: built and pushed by staging, referenced by digest everywhere, secrets masked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from infra.config.model import StackConfig
from infra.config.secrets import SecretRef
from infra.secrets import OFFLINE_ENV, MissingSecret, resolve_secret
from tests.conftest import manifests, resources

DIGEST_REF = r"^ghcr\.io/tbcoin/tbcoin-engine-ml@sha256:[0-9a-f]{64}$"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_workload_runs_an_image_by_digest(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    import re

    images = [
        c["image"]
        for m in manifests(synthesized(stack))
        if m["kind"] in ("Deployment", "Rollout")
        for c in m["spec"]["template"]["spec"]["containers"]
    ]
    assert images
    assert all(re.match(DIGEST_REF, image) for image in images), images


def test_staging_builds_the_image_and_masks_the_registry_password(
    synthesized: Callable[[str], Path],
) -> None:
    images = [
        r for r in resources(synthesized("staging")) if r["type"] == "docker:index/image:Image"
    ]
    assert len(images) == 1, "one build serves every service"
    inputs = images[0]["inputs"]
    assert inputs["imageName"] == "ghcr.io/tbcoin/tbcoin-engine-ml:main"
    assert inputs["build"]["platform"] == "linux/amd64"
    assert inputs["registry"]["password"] == "[secret]"
    text = (synthesized("staging") / "resources.json").read_text()
    assert "GHCR_TOKEN" not in text


def test_a_missing_secret_stops_a_real_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    monkeypatch.delenv("TBCOIN_TEST_TOKEN", raising=False)
    config = StackConfig.model_validate(
        {"environments": {"e": {"namespace": "e", "tier": "staging"}}}
    )
    with pytest.raises(MissingSecret, match="environment variable TBCOIN_TEST_TOKEN is not set"):
        resolve_secret(config, SecretRef.model_validate({"fromEnv": "TBCOIN_TEST_TOKEN"}), "x")
