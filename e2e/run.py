"""`make e2e`: both stacks through the real Pulumi engine on a real (loopback) control plane.

Per stack, on a control plane of its own: preview and up on the empty cluster with the policy pack
attached by the engine, every object compared with the offline synth, a second preview that must
show no changes, destroy, and what is left. Writes out/e2e/report.json; exit 1 when a check
failed, 2 when the harness could not run.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from e2e import (
    changes,
    controlplane,
    engine,
    faults,
    infractl,
    live,
    prometheus,
    rollouts,
    stacks,
    tools,
)
from e2e.errors import HarnessError
from e2e.programs import program, weakened_program
from infra.config.monitoring import MonitoringConfig
from infra.release import ACTIVE, PREVIEW

ROOT = tools.ROOT
REPORT = ROOT / "out" / "e2e" / "report.json"
# Every step's real event log, as `infractl` reads them; `--record` keeps some for `make test`.
OUTPUTS = ROOT / "out" / "e2e" / "engine-outputs"
RECORDED = ROOT / "tests" / "engine_outputs" / "recorded"
RECORD = ("preview", "refresh-preview-only", "drift-preview", "change-preview")
# The controller's Rollout at each stage of a release; `--record` keeps them for `make test`.
ROLLOUT_STAGES = OUTPUTS / "rollouts"
RECORDED_ROLLOUTS = RECORDED / "rollouts"
# The releases' images: any digests other than the first (pods under KWOK run no code).
RELEASE_DIGEST = "sha256:" + "b2" * 32
FAILING_DIGEST = "sha256:" + "f4" * 32
AFTER_ABORT_DIGEST = "sha256:" + "c3" * 32
STACKS = ("staging", "prod")
# pulumi_policy's advisory for a policy that read a value unknown in preview, and the pack's own
# mandatory outcome for one it needs (policies/tbcoin_policies/common.py).
UNJUDGED = ("can't run policy", "Cannot be checked before apply")


@dataclass
class StackReport:
    stack: str
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    passed: int = 0

    def step(self, name: str, result: engine.Result, **extra: Any) -> None:
        if result.event_log is not None and result.event_log.is_file():
            OUTPUTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(result.event_log, OUTPUTS / f"{self.stack}-{name}.jsonl")
        self.steps[name] = {
            "exit": result.returncode,
            "changes": result.summary(),
            "seconds": round(result.seconds, 1),
            **extra,
        }
        # Every policy must run under the real engine: a skipped one gates nothing.
        unjudged = [m for m in result.policy_messages() if any(s in m for s in UNJUDGED)]
        self.check(not unjudged, f"{name}: a policy did not judge the real preview: {unjudged}")

    def check(self, ok: bool, message: str) -> bool:
        self.passed += ok
        if not ok:
            self.failures.append(message)
            print(f"e2e: {self.stack}: FAIL {message}", file=sys.stderr, flush=True)
        return ok


def _pack_args(stack: str) -> list[str]:
    return [
        "--policy-pack",
        str(engine.PACK),
        "--policy-pack-config",
        str(ROOT / "policies" / "config" / f"{stack}.json"),
    ]


# pulumi-kubernetes' condition.(*Deleted).Satisfied dereferences the nil result kstatus returns
# for a Rollout whose status.observedGeneration is a string (Argo Rollouts writes one) when its
# shared informer hands it an object not yet marked for deletion: a race, seen on some prod
# destroys after the controller ran. Still in upstream's source of July 2026.
KNOWN_DELETE_PANIC = "condition.(*Deleted).Satisfied"


def provider_panic(result: engine.Result) -> list[str]:
    """The panic line and the crashing goroutine's frames, when a provider crashed."""
    text = "\n".join([result.stdout, result.stderr, *result.diagnostics()])
    if "exited prematurely" not in text or "panic: " not in text:
        return []
    lines = [line.strip() for line in text[text.index("panic: ") :].splitlines()]
    # The panic, then the crashing goroutine's functions (their file lines and headers left out).
    skip = ("/", "[signal", "goroutine ")
    return [line for line in lines if line and not line.startswith(skip)][:12]


def _errors(result: engine.Result) -> str:
    lines = result.diagnostics() or result.stderr.strip().splitlines()[-5:]
    return " | ".join(line.strip()[:400] for line in lines[-8:])


def synth(stack: str, settings: Path, out: Path) -> Path:
    done = infractl.run(
        "synth",
        "--stack",
        stack,
        "--config-file",
        str(settings),
        "--out",
        str(out),
        env=stacks.SECRET_ENV,
    )
    if done.returncode != 0:
        raise HarnessError(f"offline synth of {stack} failed: {done.stderr.strip()[-500:]}")
    return out / "kubernetes"


def weakened(report: StackReport, pulumi: engine.Engine, plane: controlplane.ControlPlane) -> None:
    """The pack under the engine stops a weakened stack: the update fails, nothing is created."""
    stack = report.stack
    up = pulumi.run("up", "--yes", "--stack", stack, *_pack_args(stack), program=weakened_program)
    violations = sorted({v.get("policyName", "") for v in up.policy_violations()})
    left = live.ours(plane.kubeconfig) + live.named(plane.kubeconfig, "weakened")
    report.step("weakened-up", up, violations=violations, created=left)
    report.check(up.returncode != 0, "the weakened stack was applied")
    report.check("k8s-pod-security-restricted" in violations, f"pack verdict: {violations}")
    report.check(not left, f"the refused update created {left}")


def drift(
    report: StackReport, pulumi: engine.Engine, plane: controlplane.ControlPlane, synth_dir: Path
) -> None:
    """Change live objects by hand, then rank the real refresh through `infractl drift`."""
    stack = report.stack
    made = live.drift(plane.kubeconfig, stacks.settings(stack)["config"])
    refresh = pulumi.run("refresh", "--preview-only", "--stack", stack)
    pending = pulumi.run("preview", "--stack", stack, program=program)
    done = infractl.run(
        "drift",
        "--stack",
        stack,
        "--input",
        str(refresh.event_log),
        "--pending-input",
        str(pending.event_log),
        "--resources",
        str(synth_dir / "resources.json"),
    )
    report.step("refresh-preview-only", refresh, made=made)
    report.step("drift-preview", pending)
    report.steps["drift"] = {"exit": done.returncode, "report": done.stdout.strip().splitlines()}
    report.check(refresh.returncode == 0, f"refresh --preview-only failed: {_errors(refresh)}")
    report.check(done.returncode in (1, 4), f"infractl drift exit {done.returncode}: {done.stderr}")
    for change in made:
        if change["expected"]:
            report.check(change["name"] not in done.stdout, f"reported expected {change}")
        else:
            report.check(change["name"] in done.stdout, f"drift not reported: {change}")


def preview_report(report: StackReport, result: engine.Result) -> None:
    done = infractl.run(
        "preview-report",
        "--stack",
        report.stack,
        "--event-log",
        str(result.event_log),
        "--format",
        "json",
    )
    report.steps["preview-report"] = {"exit": done.returncode}
    report.check(done.returncode == 0, f"preview-report on the real event log: {done.stderr}")


def change_preview(report: StackReport, pulumi: engine.Engine, step: Callable[[str], None]) -> None:
    """A real preview of an update, a replacement and a delete of the deployed stack (nothing
    applied), for `make test` to check the PR report's values, causes and ranking on."""
    stack = report.stack
    change, made = changes.change_preview(pulumi, stack, _pack_args(stack))
    report.step("change-preview", change, made=made)
    planned = change.summary()
    step(f"{stack}: change preview exit {change.returncode} {planned}")
    report.check(change.returncode == 0, f"change-preview failed: {_errors(change)}")
    missing = [op for op in changes.EXPECTED if not planned.get(op)]
    report.check(not missing, f"change-preview planned {planned}: no {missing}")


def secrets_in_state(report: StackReport, pulumi: engine.Engine) -> None:
    state = json.dumps(pulumi.stack_export())
    leaked = [name for name, value in stacks.SECRET_ENV.items() if value in state]
    report.steps["secrets"] = {"plaintext-in-state": leaked}
    report.check(not leaked, f"secrets in plain text in state: {leaked}")


def no_plugin(report: StackReport, pulumi: engine.Engine) -> None:
    """Before the provider is registered a preview must fail on the missing plugin, having
    downloaded nothing: the registration is what the engine runs, never a download."""
    preview = pulumi.run("preview", "--stack", report.stack, program=program)
    text = preview.stdout + preview.stderr + " ".join(preview.diagnostics())
    report.step("preview-without-plugin", preview, plugins=pulumi.plugins())
    report.check(preview.returncode != 0, "a preview ran without the registered provider")
    report.check("kubernetes" in text and "plugin" in text, f"not a missing-plugin error: {text}")
    report.check(not pulumi.plugins(), f"plugins appeared without registration: {pulumi.plugins()}")
    # What infractl drift and the preview workflow rely on: without PULUMI_DEBUG_COMMANDS the CLI
    # refuses `--event-log` (tests/test_drift.py fakes exactly this).
    gated = pulumi.run("preview", "--stack", report.stack, env={"PULUMI_DEBUG_COMMANDS": ""})
    report.check("unknown flag: --event-log" in gated.stderr, "--event-log is no longer gated")


def _no_changes(report: StackReport, pulumi: engine.Engine, name: str) -> None:
    stack = report.stack
    again = pulumi.run(
        "preview", "--expect-no-changes", "--diff", "--stack", stack, *_pack_args(stack),
        program=program,
    )  # fmt: skip
    report.step(name, again)
    report.check(
        again.returncode == 0, f"{name}: Pulumi and the controller fight: {_errors(again)}"
    )


def _blue_green_service(stack: str) -> tuple[str, str] | None:
    config = stacks.settings(stack)["config"]
    envs = config[f"{stacks.NS}:environments"]
    for name, service in sorted((config.get(f"{stacks.NS}:services") or {}).items()):
        if service["strategy"]["type"] == "blueGreen":
            return name, envs[service["environment"]]["namespace"]
    return None


def blue_green(
    report: StackReport,
    pulumi: engine.Engine,
    plane: controlplane.ControlPlane,
    step: Callable[[str], None],
) -> None:
    """Blue-green releases on the real controller, its analyses measured by a real Prometheus
    that scrapes the preview's and active's traffic (e2e/prometheus.py) and the controller's
    own metrics. Each release is a new digest in config and `pulumi up`; no fight with Pulumi
    at any stage."""
    found = _blue_green_service(report.stack)
    if found is None:
        return
    service, namespace = found
    record: dict[str, Any] = {"service": service, "stages": {}}
    report.steps["blue-green"] = record
    refused = rollouts.plugin_refused(plane)
    record["chart-settings-start"] = refused
    report.check(
        "Failed to download plugins" in refused, f"controller with chart settings: {refused}"
    )
    settings = pulumi.project / f"Pulumi.{report.stack}.yaml"
    cluster = rollouts.Cluster(plane.kubeconfig, namespace, settings)
    monitoring = stacks.settings(report.stack)["config"].get(f"{stacks.NS}:monitoring") or {}
    default = MonitoringConfig.model_fields["namespace"].default
    host = cluster.prometheus_host(monitoring.get("namespace", default))
    if not report.check(host is not None, "no Prometheus Service of the chart in the cluster"):
        return
    tracks = {ACTIVE: prometheus.Track(), PREVIEW: prometheus.Track()}
    controller_metrics = controlplane.free_port()
    server = prometheus.start(
        plane, tracks, {"namespace": namespace, "app": service}, controller_metrics
    )
    network = prometheus.ServiceNetwork(str(host), server.url)
    with prometheus.traffic(tracks), network.serving():
        controller = rollouts.start(plane, network.port, controller_metrics)
        release = BlueGreen(report, pulumi, cluster, service, tracks, server, record, step)
        try:
            release.run()
        finally:
            controller.stop()
            server.process.stop()
            for track in tracks.values():
                track.close()
            record["controller-errors"] = rollouts.errors(controller)
            record["prometheus"] = {"host": host, "forwarded": network.forwarded}
    report.check(not network.refused, f"analysis asked for other hosts: {network.refused}")
    report.check(network.forwarded > 0, "no analysis query reached Prometheus")
    record["seconds"] = round(time.monotonic() - release.started, 1)


@dataclass
class BlueGreen:
    """The releases of one blue-green service: healthy and promoted, failing and aborted by the
    controller, then a new digest through the gate and aborted by hand."""

    report: StackReport
    pulumi: engine.Engine
    cluster: rollouts.Cluster
    service: str
    tracks: dict[str, prometheus.Track]
    server: prometheus.Prometheus
    record: dict[str, Any]
    say: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)

    def status(self) -> dict[str, Any]:
        return dict(self.cluster.rollout(self.service).get("status") or {})

    @functools.cached_property
    def aborted_expr(self) -> str:
        """The RolloutAborted alert's expression, as the stack's PrometheusRule holds it."""
        expr = self.cluster.alert_expr("RolloutAborted", self.service)
        self.record["RolloutAborted"] = expr
        return expr

    def healthy(self) -> bool:
        st = self.status()
        return bool(st.get("stableRS")) and st.get("phase") == "Healthy"

    def active(self) -> str | None:
        return self.cluster.selector(self.service).get(rollouts.HASH)

    def analysis(self) -> dict[str, Any]:
        return dict(
            (self.status().get("blueGreen") or {}).get("prePromotionAnalysisRunStatus") or {}
        )

    def waited(self, what: str, check: Callable[[], bool], deadline: float = 180) -> bool:
        return self.report.check(
            self.cluster.wait(check, deadline), f"blue-green: timed out waiting for {what}"
        )

    def infractl(self, action: str) -> subprocess.CompletedProcess[str]:
        c = self.cluster
        return rollouts.infractl_rollout(
            action, self.report.stack, self.service, c.settings, c.kubeconfig
        )

    def stage(self, name: str) -> dict[str, Any]:
        """The controller's objects and `infractl rollout status`, checked against each other."""
        rollout = self.cluster.rollout(self.service)
        shown = self.infractl("status")
        st = rollout.get("status") or {}
        seen = {
            "seconds": round(time.monotonic() - self.started, 1),
            "status": st,
            "active": self.active(),
            "preview": self.cluster.selector(f"{self.service}-preview").get(rollouts.HASH),
            "replicaSets": self.cluster.replica_sets(self.service),
            "infractl": {"exit": shown.returncode, "stdout": shown.stdout, "stderr": shown.stderr},
        }
        self.record["stages"][name] = seen
        self._keep(name, rollout)
        check = self.report.check
        expected = f"stable: {st.get('stableRS', '-')}, current: {st.get('currentPodHash', '-')}"
        check(expected in shown.stdout, f"{name}: infractl status {shown.stdout!r}")
        check(f": {st.get('phase', 'Unknown')}" in shown.stdout, f"{name}: phase shown")
        trouble = bool(st.get("abort")) or st.get("phase") == "Degraded"
        check(shown.returncode == (1 if trouble else 0), f"{name}: status exit {shown.returncode}")
        self.say(
            f"{self.report.stack}: blue-green {name}: {st.get('phase')} at {seen['seconds']} s"
        )
        return seen

    def _keep(self, name: str, document: dict[str, Any]) -> None:
        ROLLOUT_STAGES.mkdir(parents=True, exist_ok=True)
        path = ROLLOUT_STAGES / f"{self.report.stack}-{self.service}-{name}.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")

    def release(self, digest: str, name: str) -> str | None:
        """A new digest in config, `pulumi up`, and the new ReplicaSet behind the preview
        Service at the gate. Returns its pod-template hash (None: a check failed)."""
        before = self.status().get("currentPodHash")
        rollouts.set_image(self.pulumi, self.report.stack, self.service, digest)
        stack = self.report.stack
        up = self.pulumi.run("up", "--yes", "--stack", stack, *_pack_args(stack), program=program)
        self.report.step(f"{name}-up", up)
        if not self.report.check(up.returncode == 0, f"{name} up failed: {_errors(up)}"):
            return None

        def previewing() -> bool:
            st = self.status()
            new = str(st.get("currentPodHash") or "")
            return (
                new not in ("", before, st.get("stableRS"))
                and self.cluster.replica_sets(self.service).get(new, 0) > 0
                and self.cluster.selector(f"{self.service}-preview").get(rollouts.HASH) == new
            )

        if not self.waited(f"{name}: the preview ReplicaSet", previewing):
            return None
        return str(self.status()["currentPodHash"])

    def analysed(self, new: str, outcome: str, keep: bool = True) -> bool:
        """The pre-promotion AnalysisRun of `new` ended in `outcome`; with `keep`, it is kept
        as the fixture of its outcome."""
        ok = self.waited(
            f"the pre-promotion analysis of {new} to end {outcome}",
            lambda: (
                new in self.analysis().get("name", "")
                and self.analysis().get("status") in ("Successful", "Failed", "Error")
            ),
        )
        run = self.analysis()
        if keep and run.get("name"):
            self._keep(
                f"analysisrun-{run.get('status', '').lower()}",
                self.cluster.analysis_run(run["name"]),
            )
        return ok and self.report.check(
            run.get("status") == outcome, f"analysis of {new}: {run.get('status')}, not {outcome}"
        )

    def aborted(self, name: str, active: str | None) -> None:
        """Aborted: Degraded, active Service unmoved, and the stack's own RolloutAborted alert
        expression true in Prometheus on the controller's metrics."""
        # `abort` is written first and the phase on the controller's next sync.
        self.waited(
            f"{name}: the abort",
            lambda: bool(self.status().get("abort")) and self.status().get("phase") == "Degraded",
        )
        seen = self.stage(name)
        self.report.check(seen["status"].get("phase") == "Degraded", f"{name}: not Degraded")
        self.report.check(seen["active"] == active, f"{name}: active moved to {seen['active']}")
        self.waited(
            f"{name}: RolloutAborted's expression in Prometheus",
            lambda: bool(self.server.query(self.aborted_expr)),
            60,
        )
        _no_changes(self.report, self.pulumi, f"preview-after-{name}")

    def run(self) -> None:
        check, preview = self.report.check, self.tracks[PREVIEW]
        if not self.waited("the first revision to become stable", self.healthy):
            self.stage("first-revision")
            return
        first = self.stage("first-revision")
        check(first["active"] == first["status"]["stableRS"], "active selector")
        _no_changes(self.report, self.pulumi, "preview-after-controller")

        # 1. Healthy: the analysis passes, the gate holds until promote, the old color goes.
        preview.error_ratio = 0.0
        new = self.release(RELEASE_DIGEST, "release")
        if new is None or not self.analysed(new, "Successful"):
            self.stage("preview")
            return
        seen = self.stage("preview")
        check(seen["active"] == first["active"], "active moved before promotion")
        check(bool(seen["status"].get("pauseConditions")), "not paused at the gate")
        _no_changes(self.report, self.pulumi, "preview-during-release")
        promoted = self.infractl("promote")
        self.record["promote"] = {"exit": promoted.returncode, "stdout": promoted.stdout}
        check(promoted.returncode == 0, f"promote: {promoted.stderr}")
        at = time.monotonic()
        self.waited(
            "the active Service to switch",
            lambda: self.active() == new and self.status().get("stableRS") == new,
        )
        self.stage("promoted")
        old = first["active"]
        delay = stacks.E2E_SCALE_DOWN_DELAY
        self.waited(
            "the old color's scale-down",
            lambda: self.cluster.replica_sets(self.service).get(old) == 0,
            delay + 120,
        )
        after = round(time.monotonic() - at, 1)
        self.record["scaled-down-after"] = after
        check(after >= delay - 5, f"old color scaled down {after} s after promotion, delay {delay}")
        self.stage("scaled-down")
        _no_changes(self.report, self.pulumi, "preview-after-promotion")

        # 2. Failing: the preview answers 5xx, the analysis fails, the controller aborts.
        preview.error_ratio = 0.5
        failing = self.release(FAILING_DIGEST, "failing-release")
        if failing is not None and self.analysed(failing, "Failed"):
            self.aborted("aborted-by-analysis", new)
            refused = self.infractl("retry")
            self.record["retry"] = {"exit": refused.returncode, "stderr": refused.stderr}
            check(
                refused.returncode == 2 and "retry of blue-green" in refused.stderr,
                f"retry not refused: {refused.returncode} {refused.stderr}",
            )

        # 3. After an abort, a new digest: the gate holds again (the runbook's advice), then
        # `infractl rollout abort` by hand. First the failing traffic leaves the window.
        preview.error_ratio = 0.0
        window = stacks.E2E_ANALYSIS["window"]
        errors = f'sum(rate(http_requests_total{{track="{PREVIEW}",status="5xx"}}[{window}])) > 0'
        self.waited(
            "the preview's errors to leave the window", lambda: not self.server.query(errors)
        )
        again = self.release(AFTER_ABORT_DIGEST, "release-after-abort")
        if again is None or not self.analysed(again, "Successful", keep=False):
            return
        time.sleep(5)  # past the analysis: a skipped gate would have switched by now
        seen = self.stage("gate-after-abort")
        check(seen["active"] == new, f"release after abort skipped the gate: {seen['active']}")
        check(bool(seen["status"].get("pauseConditions")), "release after abort not paused")
        # The negative control of RolloutAborted: a new release ended the last abort.
        self.waited(
            "RolloutAborted's expression to clear after the new release",
            lambda: not self.server.query(self.aborted_expr),
            60,
        )
        aborted = self.infractl("abort")
        check(aborted.returncode == 0, f"abort: {aborted.stderr}")
        self.aborted("aborted-by-hand", new)


def placeholder_refused(report: StackReport, pulumi: engine.Engine) -> None:
    """The repository's own plugin digest (a placeholder) under the real engine: the preview
    fails naming the file and key. The e2e digest is set back after."""
    stack, key = report.stack, f"{stacks.NS}:rollouts.gatewayPluginImage"
    repository = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    ours = stacks.settings(stack)["config"][f"{stacks.NS}:rollouts"]["gatewayPluginImage"]
    theirs = repository[f"{stacks.NS}:rollouts"]["gatewayPluginImage"]
    pulumi.run("config", "set", "--path", key, theirs, "--stack", stack, event_log=False)
    preview = pulumi.run("preview", "--stack", stack, program=program)
    pulumi.run("config", "set", "--path", key, ours, "--stack", stack, event_log=False)
    text = " ".join(preview.diagnostics())
    report.step("preview-placeholder-digest", preview)
    report.check(preview.returncode != 0, "the placeholder plugin digest was previewed")
    report.check(
        f"Pulumi.{stack}.yaml: {key}: the digest is a placeholder" in text,
        f"the placeholder's refusal names neither file nor key: {text[:300]}",
    )


def run_stack(stack: str, folder: Path, step: Callable[[str], None]) -> StackReport:
    report = StackReport(stack)
    with controlplane.running(folder / "cluster") as plane:
        step(f"{stack}: control plane up ({controlplane.version_info(plane)})")
        pulumi = engine.Engine(folder / "engine", plane.kubeconfig)
        pulumi.init_stack(stack, stacks.settings(stack))
        no_plugin(report, pulumi)
        version = pulumi.register_provider()
        synth_dir = folder / "synth"
        declared = synth(stack, pulumi.project / f"Pulumi.{stack}.yaml", synth_dir)

        provided = live.provide(plane.kubeconfig, stacks.CLUSTER_PROVIDES[stack])
        report.steps["cluster-provides"] = {"objects": len(provided)}
        placeholder_refused(report, pulumi)
        weakened(report, pulumi, plane)
        step(f"{stack}: weakened stack refused: {report.steps['weakened-up']['violations']}")

        preview = pulumi.run("preview", "--stack", stack, *_pack_args(stack), program=program)
        report.step("preview", preview)
        step(f"{stack}: preview exit {preview.returncode} {preview.summary()}")
        report.check(preview.returncode == 0, f"preview failed: {_errors(preview)}")
        preview_report(report, preview)

        up = pulumi.run("up", "--yes", "--stack", stack, *_pack_args(stack), program=program)
        report.step("up", up)
        step(f"{stack}: up exit {up.returncode} {up.summary()} in {up.seconds:.0f} s")
        if report.check(up.returncode == 0, f"up failed: {_errors(up)}"):
            mismatches = live.compare(plane.kubeconfig, declared)
            report.steps["up"]["mismatches"] = mismatches
            report.check(not mismatches, f"{len(mismatches)} live objects differ from the synth")
            secrets_in_state(report, pulumi)

        again = pulumi.run(
            "preview",
            "--expect-no-changes",
            "--diff",
            "--stack",
            stack,
            *_pack_args(stack),
            program=program,
        )
        report.step("preview-again", again)
        step(f"{stack}: second preview exit {again.returncode} {again.summary()}")
        report.check(again.returncode == 0, f"second preview shows changes: {again.summary()}")

        if up.returncode == 0 and stack in changes.EDITS:
            change_preview(report, pulumi, step)

        if up.returncode == 0 and rollouts.available():
            blue_green(report, pulumi, plane, step)

        if up.returncode == 0:
            drift(report, pulumi, plane, synth_dir)
            step(f"{stack}: drift exit {report.steps['drift']['exit']}")

        down = pulumi.run("destroy", "--yes", "--stack", stack)
        refused = down.returncode != 0 and "protected" in down.stdout + down.stderr
        if refused:
            # Protected resources (prod's monitoring storage) stop a destroy, as documented;
            # the runbook's way past it is an explicit unprotect.
            pulumi.run("state", "unprotect", "--all", "--yes", "--stack", stack, event_log=False)
            down = pulumi.run("destroy", "--yes", "--stack", stack)
        crash = provider_panic(down)
        if crash:
            step(f"{stack}: the Kubernetes provider crashed in destroy: {' in '.join(crash[:2])}")
            report.steps["destroy-provider-panic"] = {"frames": crash}
            known = any(KNOWN_DELETE_PANIC in frame for frame in crash)
            if report.check(known, f"the Kubernetes provider crashed in destroy: {crash}"):
                # docs/runbooks/failed-up.md: the deletes were sent; the same command again.
                down = pulumi.run("destroy", "--yes", "--stack", stack)
        report.step("destroy", down, refused_while_protected=refused)
        left = live.ours(plane.kubeconfig)
        report.steps["destroy"]["left"] = left
        step(f"{stack}: destroy exit {down.returncode}, {len(left)} objects of ours left")
        report.check(down.returncode == 0, f"destroy failed: {_errors(down)}")
        report.steps["plugins"] = {"installed": pulumi.plugins(), "kubernetes": version}
    return report


def run_faults(folder: Path, step: Callable[[str], None]) -> dict[str, Any]:
    """Issue 24's faults, on staging, each from an empty cluster (e2e/faults.py)."""
    results: dict[str, Any] = {}
    with controlplane.running(folder / "cluster") as plane:
        pulumi = engine.Engine(folder / "engine", plane.kubeconfig)
        pulumi.init_stack("staging", stacks.settings("staging"))
        pulumi.register_provider()
        live.provide(plane.kubeconfig, stacks.CLUSTER_PROVIDES["staging"])
        for name in faults.FAULTS:
            results[name] = faults.fault(
                name, pulumi, plane, "staging", program, _pack_args("staging")
            )
            outcome = results[name]
            step(
                f"fault {name}: up exit {outcome['exit']}, recovery {outcome['recovery']}, "
                f"clean {outcome['clean_preview']} after {outcome['seconds_to_clean']} s"
            )
    return results


def _record(path: Path, folder: Path) -> None:
    """Copy a run's output for `make test`, without the checkout's absolute path (the pack is
    named by it): the repository must not refer to a path outside itself."""
    (folder / path.name).write_text(path.read_text().replace(str(ROOT), "<repository>"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make e2e", description=__doc__)
    parser.add_argument("--stack", action="append", choices=STACKS, help="default: both")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, state)")
    faults_group = parser.add_mutually_exclusive_group()
    faults_group.add_argument("--skip-faults", action="store_true", help="leave out e2e/faults.py")
    faults_group.add_argument("--faults-only", action="store_true", help="only e2e/faults.py")
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"after a clean run, copy {', '.join(RECORD)} event logs to tests/engine_outputs/",
    )
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM unwind through every `finally`, so each process is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    os.environ.update(stacks.SECRET_ENV)
    folder = Path(tempfile.mkdtemp(prefix="tbcoin-e2e-"))
    started = time.monotonic()

    def step(message: str) -> None:
        print(f"e2e: [{time.monotonic() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    reports: list[StackReport] = []
    try:
        built = tools.ensure()
        for stack in [] if args.faults_only else args.stack or STACKS:
            reports.append(run_stack(stack, folder / stack, step))
        fault_results = {} if args.skip_faults else run_faults(folder / "faults", step)
    except HarnessError as exc:
        print(f"e2e: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("e2e: interrupted; every process stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"e2e: run folder kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "versions": engine.versions(),
                "built": {k: round(v) for k, v in built.items()},
                "stacks": {r.stack: {"steps": r.steps, "failures": r.failures} for r in reports},
                "faults": fault_results,
                "seconds": round(time.monotonic() - started),
            },
            indent=2,
        )
        + "\n"
    )
    failed = [f"{r.stack}: {f}" for r in reports for f in r.failures]
    passed = sum(r.passed for r in reports)
    # A crashed pack must fail the update; every fault must end in a clean preview.
    for name, outcome in fault_results.items():
        checks = {f"no clean preview after {outcome['recovery']}": outcome["clean_preview"]}
        if name == "pack-killed":
            checks["the update passed without its policy pack"] = outcome["exit"] != 0
        passed += sum(checks.values())
        failed += [f"fault {name}: {message}" for message, ok in checks.items() if not ok]
    if args.record and not failed:
        RECORDED.mkdir(parents=True, exist_ok=True)
        for report in reports:
            for name in RECORD:
                if name in report.steps:  # change-preview: the stacks changes.EDITS edits
                    _record(OUTPUTS / f"{report.stack}-{name}.jsonl", RECORDED)
        if ROLLOUT_STAGES.is_dir():
            RECORDED_ROLLOUTS.mkdir(exist_ok=True)
            for path in ROLLOUT_STAGES.glob("*.json"):
                _record(path, RECORDED_ROLLOUTS)
        (RECORDED / "versions.json").write_text(json.dumps(engine.versions(), indent=2) + "\n")
    print(f"e2e: report: {REPORT.relative_to(ROOT)}", file=sys.stderr)
    # The closing line CI reads.
    print(f"e2e: {passed} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
