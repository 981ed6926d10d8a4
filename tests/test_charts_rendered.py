"""The pinned charts render offline with the values the program declares, and every object they
would install validates: custom resources against the CRDs those charts install (vendor/crds)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import pytest

from infra.config.charts import release_archive
from infractl.policy.charts import HELM_RELEASE, archive_of, describe
from tests.charts import chart_crds, render_release, validate
from tests.conftest import REPO, infractl, resources, vendored

RELEASES = {
    "staging": {"kube-prometheus-stack", "argo-rollouts"},
    "prod": {"kube-prometheus-stack", "loki", "alloy", "envoy-gateway", "argo-rollouts"},
}


def releases(out: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["inputs"]["name"]: r for r in resources(out) if r["type"] == HELM_RELEASE}


@pytest.mark.parametrize("stack", sorted(RELEASES))
def test_every_rendered_chart_object_validates(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    declared = releases(synthesized(stack))
    assert set(declared) == RELEASES[stack]
    for name, release in declared.items():
        objects = render_release(release)
        assert objects, f"{name} rendered nothing"
        errors = []
        for obj in objects:
            try:
                validate(obj)
            except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as e:
                errors.append(f"{name}: {describe(obj)}: {str(e).splitlines()[0]}")
        assert errors == [], "\n".join(errors)


def test_validation_of_rendered_objects_can_fail(synthesized: Callable[[str], Path]) -> None:
    objects = render_release(releases(synthesized("prod"))["kube-prometheus-stack"])
    by_kind = {o["kind"]: o for o in objects}
    prometheus = copy.deepcopy(by_kind["Prometheus"])
    prometheus["spec"]["serviceMonitorSelectr"] = {}  # unknown field: strict CRD validation
    with pytest.raises(jsonschema.ValidationError, match="serviceMonitorSelectr"):
        validate(prometheus)
    rule = copy.deepcopy(by_kind["PrometheusRule"])
    rule["spec"]["groups"][0]["rules"][0]["for"] = 5  # wrong type
    with pytest.raises(jsonschema.ValidationError):
        validate(rule)
    deployment = copy.deepcopy(by_kind["Deployment"])
    deployment["spec"]["replicass"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(jsonschema.ValidationError, match="no schema"):
        validate(unknown)


@pytest.mark.parametrize(
    ("chart", "folder"),
    [
        ("kube-prometheus-stack", "prometheus-operator"),
        ("envoy-gateway", "gateway-api"),
        ("envoy-gateway", "envoy-gateway"),
        ("alloy", "alloy"),
    ],
)
def test_vendored_crds_are_the_ones_the_pinned_charts_install(
    chart: str, folder: str, synthesized: Callable[[str], Path]
) -> None:
    """vendor/crds holds byte copies of the CRD files in the archives the program deploys."""
    installed = chart_crds(archive_of(releases(synthesized("prod"))[chart], REPO))
    copies = {p.name: p.read_text() for p in vendored("crds", folder).glob("*.yaml")}
    assert copies, folder
    for name, text in copies.items():
        assert installed.get(name) == text, f"vendor/crds/{folder}/{name} differs from {chart}"


@pytest.mark.parametrize("stack", sorted(RELEASES))
def test_every_release_deploys_the_vendored_archive_of_its_pinned_version(
    stack: str, synthesized: Callable[[str], Path]
) -> None:
    """What the tests render is what `pulumi up` installs: a local archive, not a repository."""
    for name, release in releases(synthesized(stack)).items():
        inputs = release["inputs"]
        archive = release_archive(inputs["chart"], REPO)
        assert archive.parent == REPO / "vendor" / "helm-charts", name
        assert "repositoryOpts" not in inputs, name
        with helm_python.Chart.load(archive) as chart:
            assert chart.version == inputs["version"], name


def test_a_version_without_a_vendored_archive_is_a_config_error(
    mutated_stack: Callable[..., Path], tmp_path: Path
) -> None:
    def bump(config: dict[str, Any]) -> None:
        config["tbcoin-platform:monitoring"]["chart"] = {
            "name": "kube-prometheus-stack",
            "repository": "https://prometheus-community.github.io/helm-charts",
            "version": "88.6.0",
        }

    stack_file = mutated_stack(bump)
    run = infractl("synth", "--stack", "prod", "--config-file", stack_file, "--out", tmp_path / "o")
    assert run.code == 2, run.stderr
    assert (
        "tbcoin-platform:monitoring.chart: no chart archive "
        "vendor/helm-charts/kube-prometheus-stack-88.6.0.tgz" in run.stderr
    )


def test_release_charts_are_named_from_the_folder_the_engine_starts_plugins_in() -> None:
    """The provider runs in Pulumi.yaml's `main` folder and takes a chart path that does not
    exist from there for `<repository>/<chart>` (the real engine refused `vendor/...`)."""
    import yaml

    from infra.config.charts import PROGRAM_DIR, release_chart

    main = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["main"]
    assert main.rstrip("/") == PROGRAM_DIR
    chart = release_chart("vendor/helm-charts/argo-rollouts-2.41.0.tgz")
    assert (REPO / PROGRAM_DIR / chart).is_file()
    assert not (REPO / PROGRAM_DIR / "vendor/helm-charts/argo-rollouts-2.41.0.tgz").exists()
