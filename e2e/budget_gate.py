"""The error-budget gate on the real Argo Rollouts controller: prod's blue-green `api`, its
pre-promotion analysis measured by a real Prometheus that evaluates the stack's recording and
budget rules over an SLO window of history it really holds (e2e/backfill.py: written by promtool
before Prometheus starts, as weeks of scrapes would have left it).

Three releases, each a new digest and `pulumi up`: with budget left it passes the gate and is
promoted; after an outage in the history (written while Prometheus is stopped, then started
again on the same data) the budget is spent and the controller aborts the release on the
budget metric alone, which `infractl rollout status` reports as held by the budget; with an
override in config (a reason, an expiry) the next release passes, the budget still measured in
dry-run. The override is removed after, leaving the stack's own settings.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import dataclass
from typing import Any

from e2e import backfill, blue_green, controlplane, prometheus, releases, rollouts, stacks
from e2e.report import errors
from e2e.scenario import StackRun, Step
from infra.config.base import in_seconds
from infra.config.monitoring import MonitoringConfig
from infra.config.rollouts import Analysis
from infra.kubernetes.analysis import BUDGET_METRIC
from infra.monitoring.rules import BUDGET_REMAINING
from infra.release import ACTIVE

LEFT_DIGEST = "sha256:" + "b5" * 32
SPENT_DIGEST = "sha256:" + "d6" * 32
OVERRIDE_DIGEST = "sha256:" + "e7" * 32
METRIC = BUDGET_METRIC.format(kind="availability")
# The harness's Prometheus of this step (its folder under the run's).
NAME = "prometheus-budget"
# The history's traffic: 5 requests a second for the whole window, 0.04% of them 5xx (60% of a
# 99.9% budget left); then a bad day, 2% of its requests failing, ending a day before the run
# (the budget overspent: about -8% left). The live traffic's few minutes move what is left by
# about 1%, and Prometheus extrapolates the bad day's counter, which starts within the window,
# by half a sample (0.3%).
RATE, BASE_ERRORS = 5.0, 0.0004
OUTAGE = {"error_ratio": 0.02, "seconds": 86400.0, "before": 86400.0}
TOLERANCE = 0.05
REASON = "e2e: an emergency fix while the budget is spent (INC-0)"


def histories(
    labels: dict[str, str], window: float, end: float
) -> tuple[backfill.History, backfill.History]:
    """The user-facing history of the service `labels` over `window` up to `end`, and the bad
    day written into it later."""
    active = {**labels, "track": ACTIVE}
    return (
        backfill.History(active, RATE, BASE_ERRORS, window, end),
        backfill.History(
            active, RATE, OUTAGE["error_ratio"], OUTAGE["seconds"], end - OUTAGE["before"],
            instance="backfill-outage",
        ),
    )  # fmt: skip


def left_query(labels: dict[str, str]) -> str:
    """The availability budget left of the service `labels`, as the stack's rule records it."""
    selector = ",".join(f'{key}="{labels[key]}"' for key in ("namespace", "app"))
    return f'{BUDGET_REMAINING}{{{selector},slo="availability"}}'


def outcome(left: float, floor: float, overridden: bool) -> str:
    """The phase a pre-promotion AnalysisRun must end in with `left` of the budget: Failed below
    the floor, unless overridden (the budget then fails in dry-run only)."""
    return "Failed" if left < floor and not overridden else "Successful"


def measured_left(run: dict[str, Any]) -> tuple[str | None, float | None]:
    """The availability budget metric's phase and its last measured value in an AnalysisRun."""
    results = {r.get("name"): r for r in (run.get("status") or {}).get("metricResults") or []}
    result = results.get(METRIC)
    if result is None:
        return None, None
    values = [m.get("value") for m in result.get("measurements") or [] if m.get("value")]
    value = float(values[-1].strip("[]").split(",")[0]) if values else None
    return result.get("phase"), value


def run_problems(run: dict[str, Any], left: float, floor: float, overridden: bool) -> list[str]:
    """What a pre-promotion AnalysisRun shows against the budget `left` in history: the budget
    metric measured it; it failed the run alone when below `floor`, unless `overridden` (then
    it failed in dry-run and the run succeeded)."""
    status = run.get("status") or {}
    phase, value = measured_left(run)
    problems = []
    if value is None or abs(value - left) > TOLERANCE:
        problems.append(f"{METRIC} measured {value}, the history leaves {left:.3f}")
    held = left < floor
    if phase != ("Failed" if held else "Successful"):
        problems.append(f"{METRIC} {phase} with {left:.3f} left and the floor at {floor}")
    # The others may have been stopped by the budget's failure; none may fail on its own.
    others = [
        r.get("name")
        for r in status.get("metricResults") or []
        if r.get("name") != METRIC and r.get("phase") in ("Failed", "Error", "Inconclusive")
    ]
    if others:
        problems.append(f"metrics other than the budget's failed: {others}")
    expected = outcome(left, floor, overridden)
    if status.get("phase") != expected:
        problems.append(f"the run {status.get('phase')}, not {expected}")
    dry_run = {r.get("name"): r.get("dryRun") for r in status.get("metricResults") or []}
    if overridden != bool(dry_run.get(METRIC)):
        problems.append(f"{METRIC} dry-run {dry_run.get(METRIC)} with the override {overridden}")
    if overridden and held and status.get("dryRunSummary", {}).get("failed") != 1:
        problems.append(f"dry-run summary {status.get('dryRunSummary')}: the budget not failed")
    return problems


@dataclass
class BudgetGate:
    s: StackRun
    release: blue_green.BlueGreen
    labels: dict[str, str]
    history: tuple[backfill.History, backfill.History]
    objective: float
    floor: float

    def left(self) -> float | None:
        found = self.release.server.query(left_query(self.labels))
        return float(found[0]["value"][1]) if found else None

    def analysed(self, new: str, name: str, left: float, overridden: bool) -> bool:
        """The pre-promotion run of `new` ended as the history says it must, kept as
        `analysisrun-<name>`."""
        bg = self.release
        if not bg.analysed(new, outcome(left, self.floor, overridden), keep=False):
            return False
        run = bg.cluster.analysis_run(bg.analysis()["name"])
        bg.keep(f"analysisrun-{name}", run)
        bg.record[f"measured-{name}"] = measured_left(run)
        problems = run_problems(run, left, self.floor, overridden)
        return self.s.report.check(not problems, f"{name}: the analysis: {problems}")

    def promoted(self, new: str, name: str) -> None:
        bg = self.release
        done = bg.infractl("promote")
        self.s.report.check(done.returncode == 0, f"{name}: promote: {done.stderr}")
        bg.waited(
            f"{name}: the active Service to switch",
            lambda: bg.active() == new and bg.status().get("stableRS") == new,
        )
        bg.stage(f"{name}-promoted")
        self.s.expect_no_changes(f"preview-after-{name}", blue_green.FIGHT)

    def outage(self) -> float:
        """The outage written into the history while Prometheus is stopped; returns the budget
        the history now leaves."""
        server = self.release.server
        server.process.stop()
        self.release.record["backfill-outage"] = backfill.write_blocks(
            [self.history[1]], self.s.plane.folder / NAME / "data"
        )
        server.restart(self.s.plane)
        return backfill.budget_left(list(self.history), self.objective)

    def run(self) -> None:
        bg, check = self.release, self.s.report.check
        left = backfill.budget_left([self.history[0]], self.objective)
        bg.waited("the budget left in Prometheus", lambda: self.left() is not None, 120)
        bg.record["left-in-prometheus"] = seen = self.left()
        check(
            seen is not None and abs(seen - left) <= TOLERANCE,
            f"Prometheus has {seen} of the budget left, the history {left:.3f}",
        )

        # 1. Budget left: the analysis measures it and passes; promoted.
        if not bg.waited("a stable revision", lambda: bool(bg.status().get("stableRS"))):
            return
        new = bg.release(LEFT_DIGEST, "budget-left")
        if new is None or not self.analysed(new, "budget-left", left, overridden=False):
            bg.stage("budget-left-stopped")
            return
        seen_gate = bg.stage("budget-left")
        check(bool(seen_gate["status"].get("pauseConditions")), "budget left: not at the gate")
        self.promoted(new, "budget-left")

        # 2. An outage spends it: the controller aborts the next release on the budget alone.
        left = self.outage()
        bg.waited("the outage in the budget", lambda: (self.left() or 1) < self.floor, 120)
        bg.record["left-after-outage"] = self.left()
        held = bg.release(SPENT_DIGEST, "budget-spent")
        if held is None or not self.analysed(held, "held-by-budget", left, overridden=False):
            bg.stage("budget-spent-stopped")
            return
        bg.aborted("held-by-budget", new)
        shown = bg.record["stages"]["held-by-budget"]["infractl"]["stdout"]
        _, measured = bg.record["measured-held-by-budget"]
        said = f"held by the error budget: availability {measured:.0%} left, below the floor"
        check(
            f"{said} {self.floor:.0%}" in shown and "fix, then release a new digest" not in shown,
            f"held-by-budget: infractl rollout status {shown!r}",
        )

        # 3. An override in config lets the next release through; the budget in dry-run.
        expires = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
        override = {"reason": REASON, "expires": expires.isoformat()}
        for key, value in override.items():
            rollouts.set_strategy(
                self.s.pulumi, self.s.stack, bg.service, f"analysis.budgetOverride.{key}", value
            )
        fixed = bg.release(OVERRIDE_DIGEST, "budget-override")
        if fixed is None or not self.analysed(fixed, "budget-overridden", left, overridden=True):
            bg.stage("budget-override-stopped")
            return
        shown = bg.stage("budget-overridden")["infractl"]["stdout"]
        bg.keep(
            "analysistemplate-overridden", bg.cluster.analysis_template(f"{bg.service}-preview")
        )
        check(
            f"error-budget gate overridden until {expires}: {REASON}" in shown,
            f"budget-overridden: infractl rollout status {shown!r}",
        )
        self.promoted(fixed, "budget-overridden")

        # The stack's own settings again: only the templates change, no release.
        rollouts.set_strategy(
            self.s.pulumi, self.s.stack, bg.service, "analysis.budgetOverride", None
        )
        up = self.s.cli("up", "--yes", pack=True)
        self.s.report.step("budget-override-removed-up", up)
        changed = {op: n for op, n in up.summary().items() if op != "same"}
        check(
            up.returncode == 0 and set(changed) == {"update"},
            f"removing the override: {changed}: {errors(up)}",
        )


def budget_gate(s: StackRun) -> str:
    found = blue_green.runnable(s)
    if isinstance(found, str):
        return found
    name, namespace = found
    report = s.report
    monitoring = MonitoringConfig.model_validate(s.config[f"{stacks.NS}:monitoring"])
    strategy = s.config[f"{stacks.NS}:services"][name]["strategy"]
    floor = Analysis.model_validate(strategy["analysis"]).budget_floor
    record: dict[str, Any] = {"service": name, "stages": {}}
    report.steps["budget-gate"] = record
    cluster = rollouts.Cluster(s.plane.kubeconfig, namespace, s.settings_file)
    host = cluster.prometheus_host(monitoring.namespace)
    if not report.check(host is not None, "no Prometheus Service of the chart in the cluster"):
        return "no Prometheus"
    labels = {"namespace": namespace, "app": name}
    history = histories(labels, in_seconds(monitoring.slo.window), time.time() - 60)
    record["history"] = [dataclasses.asdict(h) for h in history]
    record["backfill"] = backfill.write_blocks([history[0]], s.plane.folder / NAME / "data")
    tracks = {ACTIVE: prometheus.Track(), blue_green.PREVIEW: prometheus.Track()}
    metrics_port = controlplane.free_port()
    rules = cluster.rule_groups(name, prometheus.RULES_EVERY, ("recording", "budget"))
    server = prometheus.start(
        s.plane, tracks, labels, metrics_port,
        name=NAME, rules=rules, retention=monitoring.prometheus.retention,
    )  # fmt: skip
    network = prometheus.ServiceNetwork(str(host), server.url)
    release = blue_green.BlueGreen(s, cluster, name, tracks, server, record)
    gate = BudgetGate(s, release, labels, history, monitoring.slo.availability, floor)
    with releases.on_controller(s, tracks, server, network, metrics_port, record):
        gate.run()
    return releases.finished(record, release.started)


STEP = Step(
    "budget-gate",
    "the error-budget gate on prod's blue-green service on the real Argo Rollouts controller, "
    "a real Prometheus evaluating the stack's budget rules over an SLO window of history "
    "backfilled by promtool: a release with budget left, one after an outage spent it, one "
    "with an override in config",
    "the analysis measures the budget the history leaves; with budget left the release passes "
    "and is promoted; with the budget spent the controller aborts it on the budget metric "
    "alone and `infractl rollout status` says it is held by the budget; with an override the "
    "release passes, the budget failing in dry-run, and status shows the override; `pulumi "
    "preview` shows no changes after each",
    budget_gate,
    needs=("up",),
)
