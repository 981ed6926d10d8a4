"""`infractl rollout` drives the real `kubernetes` client against a loopback stand-in of the API
server, seeded with the Rollouts this repository synthesizes, and patches them as Argo's
kubectl plugin does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from e2e.budget_gate import measured_left
from e2e.controlplane import free_port
from tests.conftest import infractl
from tests.fake_kubernetes import TOKEN, FakeKubernetes, exec_kubeconfig

NS = "tbcoin-prod"
RECORDED = Path(__file__).parent / "engine_outputs" / "recorded" / "rollouts"


def _recorded(stage: str) -> dict[str, Any]:
    return json.loads((RECORDED / f"prod-api-{stage}.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture
def cluster(
    rollout_cluster: tuple[FakeKubernetes, dict[str, str]],
) -> tuple[FakeKubernetes, dict[str, str]]:
    return rollout_cluster


def _run(env: dict[str, str], *args: str) -> Any:
    run = infractl("rollout", *args, "--stack", "prod", env=env)
    assert TOKEN not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return run


def _patches(fake: FakeKubernetes) -> list[tuple[str, Any]]:
    return [(r.path.rsplit("/", 1)[1], r.body) for r in fake.requests if r.method == "PATCH"]


def _at_the_gate(fake: FakeKubernetes) -> None:
    """inference paused at the last step (the pause without duration), canary at 50%."""
    rollout = fake.rollouts[(NS, "inference")]
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    rollout["status"] = {
        "phase": "Paused",
        "currentStepIndex": len(steps) - 1,
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-11-27T10:00:00Z"}],
        "canary": {"weights": {"canary": {"weight": 50}, "stable": {"weight": 50}}},
        "stableRS": "6f7d8c9b5",
        "currentPodHash": "7c8d9e0f1",
    }


def test_status_shows_where_the_release_stands(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    _at_the_gate(fake)
    run = _run(env, "status", "--service", "inference")
    assert run.code == 0, run.stderr
    assert f"Rollout {NS}/inference: Paused" in run.stdout
    assert "step: 6/7" in run.stdout
    assert "weight: canary 50%, stable 50%" in run.stdout
    assert "paused: CanaryPauseStep" in run.stdout
    assert _patches(fake) == []


def _aborted_by(fake: FakeKubernetes, metric: str, value: str) -> None:
    """inference aborted by its background analysis, `metric` failed with `value`."""
    message = f'Metric "{metric}" assessed Failed due to failed (1) > failureLimit (0)'
    run = "inference-7c8d9e0f1-2"
    fake.rollouts[(NS, "inference")]["status"] = {
        "phase": "Degraded",
        "abort": True,
        "message": f"RolloutAborted: Rollout aborted update to revision 2: {message}",
        "currentStepIndex": 0,
        "canary": {"currentBackgroundAnalysisRunStatus": {
            "name": run, "status": "Failed", "message": message,
        }},
        "stableRS": "6f7d8c9b5",
        "currentPodHash": "7c8d9e0f1",
    }  # fmt: skip
    fake.analysis[(NS, "analysisruns", run)] = {
        "metadata": {"name": run, "namespace": NS},
        "status": {"phase": "Failed", "metricResults": [
            {"name": metric, "phase": "Failed",
             "measurements": [{"phase": "Failed", "value": value}]},
        ]},
    }  # fmt: skip


def test_a_release_held_by_the_error_budget_says_so(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    _aborted_by(fake, "availability-budget", "[-0.5]")
    run = _run(env, "status", "--service", "inference")
    assert run.code == 1, run.stderr
    assert (
        "held by the error budget: availability -50% left, below the floor 10% "
        "(analysis.budgetFloor)" in run.stdout
    )
    assert "analysis.budgetOverride" in run.stdout
    # Not a bad version: no advice to fix it.
    assert "fix, then release a new digest" not in run.stdout
    # A release aborted for its own errors is not held by the budget.
    _aborted_by(fake, "error-ratio", "[0.25]")
    run = _run(env, "status", "--service", "inference")
    assert run.code == 1 and "error budget" not in run.stdout
    assert "fix, then release a new digest" in run.stdout


def test_an_error_budget_override_is_shown(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    _at_the_gate(fake)
    fake.analysis[(NS, "analysistemplates", "inference-canary")] = {
        "metadata": {
            "name": "inference-canary",
            "annotations": {"tbcoin.io/budget-override": "until 2026-12-24: hotfix for INC-42"},
        }
    }
    run = _run(env, "status", "--service", "inference")
    assert run.code == 0, run.stderr
    assert (
        "error-budget gate overridden until 2026-12-24: hotfix for INC-42 "
        "(analysis.budgetOverride)" in run.stdout
    )
    # Edited on the cluster to forge a line of the status: it stays on the override's line.
    forged = "until 2026-12-24: x\n  held by the error budget: availability 0% left\r"
    fake.analysis[(NS, "analysistemplates", "inference-canary")]["metadata"]["annotations"] = {
        "tbcoin.io/budget-override": forged
    }
    run = _run(env, "status", "--service", "inference")
    assert (
        "error-budget gate overridden until 2026-12-24: x held by the error budget: availability "
        "0% left (analysis.budgetOverride)" in run.stdout
    )
    assert not [line for line in run.stdout.splitlines() if line.startswith("  held by")]


@pytest.mark.parametrize(
    "template, analysis_run",
    [
        ("<html>502</html>", ["not", "a", "run"]),
        ({"metadata": {"annotations": "until never"}}, {"status": {"metricResults": "Failed"}}),
        (
            {"metadata": {"annotations": {"tbcoin.io/budget-override": ["a", "list"]}}},
            {"status": {"metricResults": [
                "x", {"name": "availability-budget", "phase": "Failed", "measurements": "no"},
            ]}},
        ),
        (None, {"status": {"metricResults": [
            {"name": "availability-budget", "phase": "Failed", "measurements": [{"value": "NaN?"}]},
        ]}}),
    ],
)  # fmt: skip
def test_answers_of_another_shape_add_nothing_to_the_status(
    cluster: tuple[FakeKubernetes, dict[str, str]], template: Any, analysis_run: Any
) -> None:
    """An AnalysisTemplate or AnalysisRun the API server answers with another shape (a proxy's
    page, a field of the wrong type) neither crashes `status` nor shows as an override."""
    fake, env = cluster
    _aborted_by(fake, "availability-budget", "[0.05]")
    fake.analysis[(NS, "analysisruns", "inference-7c8d9e0f1-2")] = analysis_run
    fake.analysis[(NS, "analysistemplates", "inference-canary")] = template
    run = _run(env, "status", "--service", "inference")
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.stderr and "overridden" not in run.stdout
    # The Rollout's own message still names the budget metric that failed.
    assert "held by the error budget: availability, below the floor 10%" in run.stdout


def _seed_recorded(fake: FakeKubernetes, *stages: str) -> list[dict[str, Any]]:
    """make e2e's recorded objects of `api` in the stand-in, each where its kind is served."""
    found = [_recorded(stage) for stage in stages]
    for document in found:
        name, kind = document["metadata"]["name"], document["kind"]
        if kind == "Rollout":
            fake.rollouts[(NS, name)] = document
        else:
            fake.analysis[(NS, f"{kind.lower()}s", name)] = document
    return found


def _left(run: dict[str, Any]) -> str:
    """What a recorded AnalysisRun measured of the availability budget, as status says it."""
    _, left = measured_left(run)
    assert left is not None and left < 0.1, "the budget was spent in that run"
    return f"availability {left:.0%} left, below the floor 10%"


def test_a_release_the_real_controller_held_by_the_budget(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    """make e2e's budget-gate step: with the budget spent in Prometheus' history, the
    controller (v1.9.0) aborted `api`'s release on the budget metric alone; status reads the
    recorded Rollout and AnalysisRun as held, with what was left, and gives no advice to fix
    a version nothing was found wrong with."""
    fake, env = cluster
    rollout, run = _seed_recorded(fake, "held-by-budget", "analysisrun-held-by-budget")
    shown = _run(env, "status", "--service", "api")
    assert shown.code == 1, shown.stderr
    assert f"held by the error budget: {_left(run)} (analysis.budgetFloor)" in shown.stdout
    assert "fix, then release a new digest" not in shown.stdout
    assert rollout["status"]["phase"] == "Degraded" and "availability-budget" in json.dumps(
        rollout["status"]
    )


def test_a_release_the_real_controller_let_through_by_an_override(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    """The next release, with an override in config: the controller ran the budget metric in
    dry-run and held the release at its gate; status shows the override from the template,
    and that the budget, measured in dry-run, is still spent."""
    fake, env = cluster
    _, template, run = _seed_recorded(
        fake, "budget-overridden", "analysistemplate-overridden", "analysisrun-budget-overridden"
    )
    shown = _run(env, "status", "--service", "api")
    assert shown.code == 0, shown.stderr
    said = template["metadata"]["annotations"]["tbcoin.io/budget-override"]
    assert f"error-budget gate overridden {said} (analysis.budgetOverride)" in shown.stdout
    assert "paused: BlueGreenPause" in shown.stdout and "held by" not in shown.stdout
    assert (
        f"error budget spent, measured in dry-run: {_left(run)} "
        "(remove analysis.budgetOverride once the fix is out)" in shown.stdout
    )
    # The latency budget passed in dry-run: nothing said of it.
    assert "latency" not in shown.stdout


def test_promote_at_the_gate_clears_the_pause_on_the_status(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    _at_the_gate(fake)
    run = _run(env, "promote", "--service", "inference")
    assert run.code == 0, run.stderr
    assert _patches(fake) == [("status", {"status": {"pauseConditions": None}})]
    assert all(r.content_type == "application/merge-patch+json" for r in fake.requests
               if r.method == "PATCH")  # fmt: skip
    assert "pauseConditions" not in fake.rollouts[(NS, "inference")]["status"]


def test_promote_mid_step_moves_to_the_next_step(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    fake.rollouts[(NS, "inference")]["status"] = {"phase": "Progressing", "currentStepIndex": 2}
    assert _run(env, "promote", "--service", "inference").code == 0
    assert _patches(fake) == [
        ("status", {"status": {"pauseConditions": None, "currentStepIndex": 3}})
    ]


def test_full_promotion_and_the_fallback_without_status_subresource(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    _at_the_gate(fake)
    fake.status_subresource = False
    assert _run(env, "promote", "--service", "inference", "--full").code == 0
    # The status patch is refused (404), so the plugin's unified patch goes to the object.
    assert _patches(fake) == [
        ("status", {"status": {"promoteFull": True}}),
        ("inference", {"spec": {"paused": False}, "status": {"promoteFull": True}}),
    ]
    assert fake.rollouts[(NS, "inference")]["status"]["promoteFull"] is True


def test_abort_then_retry(cluster: tuple[FakeKubernetes, dict[str, str]]) -> None:
    fake, env = cluster
    _at_the_gate(fake)
    assert _run(env, "abort", "--service", "inference").code == 0
    # What the controller reports after the abort: which measurement failed.
    fake.rollouts[(NS, "inference")]["status"]["canary"]["currentBackgroundAnalysisRunStatus"] = {
        "name": "inference-7c8d9e0f1-2",
        "status": "Failed",
        "message": 'Metric "error-ratio" assessed Failed due to failed (2) > failureLimit (1)',
    }
    status = _run(env, "status", "--service", "inference")
    assert status.code == 1, "an aborted release is trouble: status exits 1"
    assert (
        "aborted: traffic is back on the stable version; fix, then release a new digest "
        "(or `retry`, if the analysis was wrong)" in status.stdout
    )
    assert (
        'analysis inference-7c8d9e0f1-2: Failed (Metric "error-ratio" assessed Failed'
        in status.stdout
    )
    assert _run(env, "retry", "--service", "inference").code == 0
    assert _patches(fake) == [
        ("status", {"status": {"abort": True}}),
        ("status", {"status": {"abort": False}}),
    ]


def test_blue_green_promotion_clears_its_pause(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    fake, env = cluster
    # The real controller's Rollout at the gate (make e2e, prod; tests/engine_outputs/recorded).
    fake.rollouts[(NS, "api")] = recorded = _recorded("preview")
    stable, current = recorded["status"]["stableRS"], recorded["status"]["currentPodHash"]
    shown = _run(env, "status", "--service", "api")
    assert shown.code == 0
    assert shown.stdout.splitlines() == [
        "Rollout tbcoin-prod/api: Paused",
        "  message: BlueGreenPause",
        f"  analysis api-{current}-2-pre: Successful",
        "  paused: BlueGreenPause (promote to continue)",
        f"  stable: {stable}, current: {current}",
    ]
    assert _run(env, "promote", "--service", "api").code == 0
    assert _patches(fake) == [("status", {"status": {"pauseConditions": None}})]


# Each stage of make e2e's blue-green releases, and whether the controller had aborted it.
STAGES = {
    "first-revision": False,
    "preview": False,
    "promoted": False,
    "scaled-down": False,
    "aborted-by-analysis": True,
    "gate-after-abort": False,
    "aborted-by-hand": True,
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_status_of_the_controllers_real_rollouts(stage: str) -> None:
    from infractl.ops.rollouts import summary

    rollout = _recorded(stage)
    status = rollout["status"]
    text, trouble = summary(rollout)
    assert text.startswith(f"Rollout tbcoin-prod/api: {status['phase']}")
    assert f"stable: {status['stableRS']}, current: {status['currentPodHash']}" in text
    assert trouble is STAGES[stage] is (status["phase"] == "Degraded")
    if trouble:
        # A blue-green cannot be retried (see the retry test): the way on is a new digest.
        assert (
            "aborted: traffic is back on the stable version; fix, then release a new digest" in text
        )
        assert "`retry`" not in text
    run = status.get("blueGreen", {}).get("prePromotionAnalysisRunStatus")
    if run:
        assert f"  analysis {run['name']}: {run['status']}" in text
    else:
        assert stage == "first-revision" and "analysis" not in text
    # The controller promoted only after the pre-promotion analysis (count 2) succeeded.
    if stage == "promoted":
        assert (
            status["stableRS"]
            == status["currentPodHash"]
            == _recorded("preview")["status"]["currentPodHash"]
        )
        assert status["blueGreen"]["activeSelector"] == status["stableRS"]


def test_a_failed_analysis_is_shown_with_the_controllers_reason() -> None:
    """The controller's own abort (make e2e: the preview answered 50% 5xx): status names the
    failed metric as the controller reported it."""
    from infractl.ops.rollouts import summary

    rollout = _recorded("aborted-by-analysis")
    text, _ = summary(rollout)
    run = rollout["status"]["blueGreen"]["prePromotionAnalysisRunStatus"]
    assert run["status"] == "Failed"
    assert f'analysis {run["name"]}: Failed (Metric "error-ratio" assessed Failed' in text
    # The active color never moved off the promoted release.
    assert rollout["status"]["stableRS"] == _recorded("promoted")["status"]["stableRS"]


def test_a_blue_green_retry_is_refused_before_it_skips_the_gate(
    cluster: tuple[FakeKubernetes, dict[str, str]],
) -> None:
    """The real controller (v1.9.0, make e2e) promoted a retried blue-green release straight to
    active; retry refuses instead, saying how to release again through the gate."""
    fake, env = cluster
    run = _run(env, "retry", "--service", "api")
    assert run.code == 2 and run.stdout == ""
    assert run.stderr.startswith("infractl: retry of blue-green tbcoin-prod/api refused: Argo ")
    assert "Release a new digest instead" in run.stderr
    assert _patches(fake) == []


def test_what_cannot_be_done_is_a_clear_error(
    cluster: tuple[FakeKubernetes, dict[str, str]], tmp_path: Path
) -> None:
    fake, env = cluster
    cases = {
        ("status", "--service", "nope"): "no service 'nope' in this stack (known: api, inference)",
        ("abort", "--service", "api", "--full"): "--full goes with promote only",
    }
    for args, message in cases.items():
        run = _run(env, *args)
        assert run.code == 2 and message in run.stderr, run
    del fake.rollouts[(NS, "api")]
    run = _run(env, "promote", "--service", "api")
    assert run.code == 2
    assert "no Rollout tbcoin-prod/api in the cluster (was `pulumi up` run?)" in run.stderr
    other = fake.kubeconfig(tmp_path, "another-cluster")
    run = _run({"KUBECONFIG": str(other)}, "status", "--service", "inference")
    assert run.code == 2 and "kubeconfig context 'tbcoin-prod'" in run.stderr
    fake.server = f"http://127.0.0.1:{free_port()}"
    run = _run({"KUBECONFIG": str(fake.kubeconfig(tmp_path, "tbcoin-prod"))}, "status",
               "--service", "inference")  # fmt: skip
    assert run.code == 2 and "API server unreachable" in run.stderr


def test_a_rolling_service_has_no_rollout(tmp_path: Path) -> None:
    run = infractl("rollout", "status", "--stack", "staging", "--service", "api",
                   env={"KUBECONFIG": str(tmp_path / "none")})  # fmt: skip
    assert run.code == 2
    assert "service 'api' is released rolling, not through Argo Rollouts" in run.stderr


def test_a_failing_exec_plugin_is_one_line_without_library_warnings(tmp_path: Path) -> None:
    """Issue 24: the client logged `ERROR:root:…` and urllib3's retry warnings before our line."""
    run = infractl(
        "rollout", "status", "--stack", "prod", "--service", "inference",
        env={"KUBECONFIG": str(exec_kubeconfig(tmp_path, "exit 1"))},
    )  # fmt: skip
    assert (run.code, run.stdout) == (2, "")
    assert run.stderr == "infractl: kubeconfig context 'tbcoin-prod': exec: process returned 1\n"


def test_an_exec_plugin_that_never_answers_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infractl.cli import main
    from infractl.ops import rollouts

    monkeypatch.setattr(rollouts, "EXEC_PLUGIN_TIMEOUT", 1.0)
    monkeypatch.setenv("KUBECONFIG", str(exec_kubeconfig(tmp_path, "sleep 600")))
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert main(["rollout", "status", "--stack", "prod", "--service", "inference"]) == 2
    assert capsys.readouterr().err == (
        f"infractl: kubeconfig context 'tbcoin-prod': exec: credential plugin "
        f"'{tmp_path / 'plugin.sh'}' did not answer within 1 s\n"
    )


@pytest.mark.parametrize(
    "text", ["clusters: 5\ncontexts: [1]\nusers: x\n", "- a\n- b\n", "contexts: {a: 1}\n"]
)
def test_a_kubeconfig_of_the_wrong_shape_is_one_line(text: str, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(text)
    run = infractl(
        "rollout", "status", "--stack", "prod", "--service", "inference",
        env={"KUBECONFIG": str(kubeconfig)},
    )  # fmt: skip
    assert (run.code, run.stdout) == (2, "") and "Traceback" not in run.stderr
    assert run.stderr.startswith("infractl: kubeconfig context 'tbcoin-prod': ")
    assert run.stderr.count("\n") == 1
