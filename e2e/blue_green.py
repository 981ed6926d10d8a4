"""Blue-green releases of a stack's blue-green service on the real Argo Rollouts controller, its
analyses measured by a real Prometheus that scrapes the preview's and active's traffic
(e2e/prometheus.py) and the controller's own metrics. Each release is a new digest in config and
`pulumi up`: healthy and promoted, failing and aborted by the controller, then a new digest
through the gate after it and an abort by hand; no fight with Pulumi at any stage."""

from __future__ import annotations

import functools
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from e2e import controlplane, prometheus, releases, rollouts, stacks
from e2e.report import errors, keep_stage
from e2e.scenario import StackRun, Step
from infra.config.monitoring import MonitoringConfig
from infra.release import ACTIVE, PREVIEW

# The releases' images: any digests other than the first (pods under KWOK run no code).
RELEASE_DIGEST = "sha256:" + "b2" * 32
FAILING_DIGEST = "sha256:" + "f4" * 32
AFTER_ABORT_DIGEST = "sha256:" + "c3" * 32
FIGHT = "Pulumi and the controller fight"


def service(config: dict[str, Any]) -> tuple[str, str] | None:
    """The stack's first blue-green service and its namespace."""
    envs = config[f"{stacks.NS}:environments"]
    for name, svc in sorted((config.get(f"{stacks.NS}:services") or {}).items()):
        if svc["strategy"]["type"] == "blueGreen":
            return name, envs[svc["environment"]]["namespace"]
    return None


def runnable(s: StackRun) -> tuple[str, str] | str:
    """The stack's blue-green service and its namespace, or why no release of it can run."""
    found = service(s.config)
    if not s.report.check(found is not None, f"{s.stack} has no blue-green service"):
        return "no blue-green service"
    if not s.report.check(rollouts.available(), f"{rollouts.CONTROLLER} is not built"):
        return "no controller"
    assert found is not None
    return found


def blue_green(s: StackRun) -> str:
    found = runnable(s)
    if isinstance(found, str):
        return found
    name, namespace = found
    report = s.report
    record: dict[str, Any] = {"service": name, "stages": {}}
    report.steps["blue-green"] = record
    refused = rollouts.plugin_refused(s.plane)
    record["chart-settings-start"] = refused
    report.check(
        "Failed to download plugins" in refused, f"controller with chart settings: {refused}"
    )
    cluster = rollouts.Cluster(s.plane.kubeconfig, namespace, s.settings_file)
    monitoring = s.config.get(f"{stacks.NS}:monitoring") or {}
    default = MonitoringConfig.model_fields["namespace"].default
    host = cluster.prometheus_host(monitoring.get("namespace", default))
    if not report.check(host is not None, "no Prometheus Service of the chart in the cluster"):
        return "no Prometheus"
    tracks = {ACTIVE: prometheus.Track(), PREVIEW: prometheus.Track()}
    controller_metrics = controlplane.free_port()
    server = prometheus.start(
        s.plane, tracks, {"namespace": namespace, "app": name}, controller_metrics
    )
    network = prometheus.ServiceNetwork(str(host), server.url)
    release = BlueGreen(s, cluster, name, tracks, server, record)
    with releases.on_controller(s, tracks, server, network, controller_metrics, record):
        release.run()
    return releases.finished(record, release.started)


@dataclass
class BlueGreen:
    """The releases of one blue-green service: healthy and promoted, failing and aborted by the
    controller, then a new digest through the gate and aborted by hand."""

    s: StackRun
    cluster: rollouts.Cluster
    service: str
    tracks: dict[str, prometheus.Track]
    server: prometheus.Prometheus
    record: dict[str, Any]
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
        return self.s.report.check(
            self.cluster.wait(check, deadline), f"blue-green: timed out waiting for {what}"
        )

    def infractl(self, action: str) -> subprocess.CompletedProcess[str]:
        c = self.cluster
        return rollouts.infractl_rollout(
            action, self.s.stack, self.service, c.settings, c.kubeconfig
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
        self.keep(name, rollout)
        check = self.s.report.check
        expected = f"stable: {st.get('stableRS', '-')}, current: {st.get('currentPodHash', '-')}"
        check(expected in shown.stdout, f"{name}: infractl status {shown.stdout!r}")
        check(f": {st.get('phase', 'Unknown')}" in shown.stdout, f"{name}: phase shown")
        trouble = bool(st.get("abort")) or st.get("phase") == "Degraded"
        check(shown.returncode == (1 if trouble else 0), f"{name}: status exit {shown.returncode}")
        self.s.say(f"{self.s.stack}: blue-green {name}: {st.get('phase')} at {seen['seconds']} s")
        return seen

    def keep(self, name: str, document: dict[str, Any]) -> None:
        keep_stage(self.s.stack, self.service, name, document)

    def release(self, digest: str, name: str) -> str | None:
        """A new digest in config, `pulumi up`, and the new ReplicaSet behind the preview
        Service at the gate. Returns its pod-template hash (None: a check failed)."""
        before = self.status().get("currentPodHash")
        rollouts.set_image(self.s.pulumi, self.s.stack, self.service, digest)
        up = self.s.cli("up", "--yes", pack=True)
        self.s.report.step(f"{name}-up", up)
        if not self.s.report.check(up.returncode == 0, f"{name} up failed: {errors(up)}"):
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
            self.keep(
                f"analysisrun-{run.get('status', '').lower()}",
                self.cluster.analysis_run(run["name"]),
            )
        return ok and self.s.report.check(
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
        self.s.report.check(seen["status"].get("phase") == "Degraded", f"{name}: not Degraded")
        self.s.report.check(seen["active"] == active, f"{name}: active moved to {seen['active']}")
        self.waited(
            f"{name}: RolloutAborted's expression in Prometheus",
            lambda: bool(self.server.query(self.aborted_expr)),
            60,
        )
        self.s.expect_no_changes(f"preview-after-{name}", FIGHT)

    def run(self) -> None:
        check, preview = self.s.report.check, self.tracks[PREVIEW]
        if not self.waited("the first revision to become stable", self.healthy):
            self.stage("first-revision")
            return
        first = self.stage("first-revision")
        check(first["active"] == first["status"]["stableRS"], "active selector")
        self.s.expect_no_changes("preview-after-controller", FIGHT)

        # 1. Healthy: the analysis passes, the gate holds until promote, the old color goes.
        preview.error_ratio = 0.0
        new = self.release(RELEASE_DIGEST, "release")
        if new is None or not self.analysed(new, "Successful"):
            self.stage("preview")
            return
        seen = self.stage("preview")
        check(seen["active"] == first["active"], "active moved before promotion")
        check(bool(seen["status"].get("pauseConditions")), "not paused at the gate")
        self.s.expect_no_changes("preview-during-release", FIGHT)
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
        self.s.expect_no_changes("preview-after-promotion", FIGHT)

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


STEP = Step(
    "blue-green",
    "three releases of the blue-green service on the real Argo Rollouts controller, analysed "
    "by a real Prometheus: healthy (promoted with `infractl rollout promote`), failing, and a "
    "new digest after the abort (aborted with `infractl rollout abort`)",
    "the analysis passes, holds at the gate, promotes and scales the old color down after its "
    "delay; a failing analysis aborts (RolloutAborted true in Prometheus, retry refused); the "
    "gate holds again after an abort; `infractl rollout status` agrees with the controller at "
    "every stage; `pulumi preview` shows no changes after each",
    blue_green,
    needs=("up",),
)
