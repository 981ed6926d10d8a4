"""Prod's canary on the real Argo Rollouts controller, its traffic router left out: the Gateway
API plugin's Go module is not served here, so e2e/programs.py's replica_canary_program (a
documented, test-only edit of the real program) makes `inference` a replica-weighted canary
without the header route. The HTTPRoute and header steps stay unproven by this run.

Its background analysis is measured by a real Prometheus that evaluates the stack's recording
rules as deployed and scrapes the canary's track only while the canary has pods (as the
ServiceMonitor would find them). Stages, each checked against `infractl rollout status` and
followed by a preview that must show no changes: the edit (a stable first revision); a healthy
release walking its weights and timed pauses to the gate, measured, held, then promoted with
`infractl rollout promote`; an unhealthy release the controller aborts by itself.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from e2e import controlplane, prometheus, receiver, releases, rollouts, stacks
from e2e.background import repeating
from e2e.programs import REPLICA_CANARY, replica_canary_program
from e2e.report import errors, keep_stage
from e2e.scenario import StackRun, Step
from infra.config.base import in_seconds
from infra.config.monitoring import MonitoringConfig
from infra.kubernetes.rollouts_controller import NOTIFIED
from infra.release import CANARY, STABLE

HEALTHY_DIGEST = "sha256:" + "a1" * 32
FAILING_DIGEST = "sha256:" + "fa" * 32
FIGHT = "Pulumi and the controller fight"
GATE = "CanaryPauseStep"
# A timed pause polled once a second may look this much shorter than it was.
SLACK = 3
# The metrics of the canary's own track; the budget gate reads the whole service's budget,
# which this step does not fill (no budget group loaded: no series, it passes; the
# budget-gate step runs the gate on blue-green `api` with history backfilled).
TRACK_METRICS = ("error-ratio", "latency-p95")
VS_STABLE = "error-ratio-vs-stable"


@dataclass(frozen=True)
class Sample:
    """The Rollout as one poll saw it."""

    at: float
    index: int
    pauses: tuple[str, ...]
    canary_pods: int
    abort: bool


def walk_problems(steps: list[dict[str, Any]], replicas: int, samples: list[Sample]) -> list[str]:
    """What one release's samples show against its steps: each pause held at its index (a
    timed one for its duration, the last until promoted), with the canary pods its last
    weight asks for (replica-weighted: ceil(weight% of the replicas)). Empty: the walk was
    what the steps say."""
    problems, weight = [], 0
    for index, step in enumerate(steps):
        if "setWeight" in step:
            weight = int(step["setWeight"])
            continue
        if "pause" not in step:
            continue
        at = [s for s in samples if s.index == index]
        paused = [s for s in at if GATE in s.pauses]
        if not paused:
            seen = sorted({s.index for s in samples})
            problems.append(f"step {index} {step}: never paused there (indexes seen {seen})")
            continue
        want = math.ceil(weight * replicas / 100)
        pods = max(s.canary_pods for s in at)
        if pods < want:
            problems.append(f"step {index}: {pods} canary pod(s) at {weight}%, not {want}")
        moved = next((s.at for s in samples if s.index > index), None)
        duration = step["pause"].get("duration")
        if duration is None:
            if moved is not None:
                problems.append(f"step {index}: the gate let the release through unpromoted")
            continue
        held = (moved if moved is not None else at[-1].at) - paused[0].at
        if moved is None or held < in_seconds(str(duration)) - SLACK:
            problems.append(f"step {index}: the pause of {duration} lasted {held:.0f} s")
    return problems


def status_problems(
    status: dict[str, Any], steps: int, shown: str, exit_code: int, says: tuple[str, ...] = ()
) -> list[str]:
    """Where `infractl rollout status` (its output and exit) disagrees with the controller's
    status of the Rollout, or does not say each of `says`."""
    wanted = [
        f": {status.get('phase', 'Unknown')}",
        f"step: {status.get('currentStepIndex') or 0}/{steps}",
        f"stable: {status.get('stableRS', '-')}, current: {status.get('currentPodHash', '-')}",
        *says,
    ]
    problems = [f"does not say {w!r}" for w in wanted if w not in shown]
    trouble = bool(status.get("abort")) or status.get("phase") == "Degraded"
    if exit_code != (1 if trouble else 0):
        problems.append(f"exit {exit_code} for phase {status.get('phase')}")
    return problems


def measured_problems(run: dict[str, Any], vs_stable: str, failing: bool) -> list[str]:
    """Whether the background AnalysisRun measured real series: each of the canary track's
    metrics has a value and the phase the release's health calls for; the canary-vs-stable
    metric runs `vs_stable` (CanaryErrorRateAboveStable's expression as deployed), and fires
    (a non-empty result) only on a failing canary."""
    problems = []
    results = {r["name"]: r for r in run.get("status", {}).get("metricResults", [])}
    for name in (*TRACK_METRICS, VS_STABLE):
        if not [m for m in results.get(name, {}).get("measurements", []) if m.get("value")]:
            problems.append(f"{name}: no measurement")
    phase = results.get("error-ratio", {}).get("phase")
    if phase != ("Failed" if failing else "Running"):
        problems.append(f"error-ratio: {phase}")
    fired = [
        m for m in results.get(VS_STABLE, {}).get("measurements", [])
        if m.get("value") not in (None, "", "[]")
    ]  # fmt: skip
    if bool(fired) != failing:
        problems.append(f"{VS_STABLE}: fired {len(fired)} time(s), failing {failing}")
    queries = [
        m.get("provider", {}).get("prometheus", {}).get("query")
        for m in run.get("spec", {}).get("metrics", [])
        if m["name"] == VS_STABLE
    ]
    if queries != [vs_stable]:
        problems.append(f"{VS_STABLE} is not CanaryErrorRateAboveStable's expression")
    return problems


def notification_text(event: str, stack: str, namespace: str, name: str, revision: str) -> str:
    """The message of `event` as the controller's engine renders the stack's template for
    this Rollout (infra/kubernetes/rollouts_controller.py holds the template)."""
    return (
        NOTIFIED[event][2]
        .replace("{stack}", stack)
        .replace("{{.rollout.metadata.namespace}}", namespace)
        .replace("{{.rollout.metadata.name}}", name)
        .replace('{{index .rollout.metadata.annotations "rollout.argoproj.io/revision"}}', revision)
    )


def notification_problems(
    posts: list[receiver.Received], text: str, channel: str | None, path: str
) -> list[str]:
    """Whether the Slack message `text` (to `channel`) was posted among `posts` exactly once, as
    JSON to the webhook's `path`."""
    found = [p for p in posts if (p.json() or {}).get("text") == text]
    if len(found) != 1:
        seen = [(p.json() or {}).get("text", p.body[:80]) for p in posts]
        return [f"{len(found)} posts of {text!r} (posts: {seen})"]
    problems = []
    want = {"text": text, **({"channel": channel} if channel else {})}
    for post in found:
        if post.json() != want:
            problems.append(f"body {post.json()}, not {want}")
        if post.path != path or post.content_type != "application/json":
            problems.append(f"posted to {post.path} as {post.content_type!r}")
    return problems


@dataclass
class Canary:
    s: StackRun
    cluster: rollouts.Cluster
    tracks: dict[str, prometheus.Track]
    server: prometheus.Prometheus
    record: dict[str, Any]
    hook: receiver.WebhookReceiver
    channel: str | None
    started: float = field(default_factory=time.monotonic)

    def rollout(self) -> dict[str, Any]:
        return self.cluster.rollout(REPLICA_CANARY)

    def status(self) -> dict[str, Any]:
        return dict(self.rollout().get("status") or {})

    def canary_pods(self, status: dict[str, Any]) -> int:
        current, stable = status.get("currentPodHash"), status.get("stableRS")
        if not current or current == stable:
            return 0
        return self.cluster.replica_sets(REPLICA_CANARY).get(str(current), 0)

    def sample(self) -> Sample:
        st = self.status()
        pauses = tuple(str(p.get("reason")) for p in st.get("pauseConditions") or [])
        return Sample(
            round(time.monotonic() - self.started, 1),
            int(st.get("currentStepIndex") or 0),
            pauses,
            self.canary_pods(st),
            bool(st.get("abort")),
        )

    def waited(self, what: str, check: Callable[[], bool], deadline: float = 240) -> bool:
        return self.s.report.check(
            self.cluster.wait(check, deadline), f"canary: timed out waiting for {what}"
        )

    def infractl(self, action: str) -> subprocess.CompletedProcess[str]:
        c = self.cluster
        return rollouts.infractl_rollout(
            action, self.s.stack, REPLICA_CANARY, c.settings, c.kubeconfig
        )

    def pods_make_series(self) -> contextlib.AbstractContextManager[None]:
        """The canary track is scraped only while the canary has pods, as the ServiceMonitor
        would find them: before its first pod it has no series at all."""

        def follow() -> None:
            with contextlib.suppress(Exception):  # the API server is busy: next second
                pods = self.canary_pods(self.status())
                self.server.scrape([STABLE, *([CANARY] if pods else [])])

        return repeating(follow, 1)

    def keep(self, name: str, document: dict[str, Any]) -> None:
        keep_stage(self.s.stack, REPLICA_CANARY, name, document)

    def stage(self, name: str, *says: str) -> dict[str, Any]:
        """The controller's Rollout and `infractl rollout status`, checked against each other;
        then a preview of the edited program that must show no changes."""
        rollout = self.rollout()
        st = rollout.get("status") or {}
        shown = self.infractl("status")
        steps = len(rollout["spec"]["strategy"]["canary"]["steps"])
        problems = status_problems(st, steps, shown.stdout, shown.returncode, says)
        self.record["stages"][name] = {
            "seconds": round(time.monotonic() - self.started, 1),
            "status": st,
            "replicaSets": self.cluster.replica_sets(REPLICA_CANARY),
            "infractl": {"exit": shown.returncode, "stdout": shown.stdout, "stderr": shown.stderr},
        }
        self.keep(name, rollout)
        self.s.report.check(not problems, f"{name}: infractl rollout status: {problems}")
        self.s.say(f"{self.s.stack}: canary {name}: {st.get('phase')} ({len(problems)} problems)")
        again = self.s.cli(
            "preview", "--expect-no-changes", "--diff", pack=True, program=replica_canary_program
        )
        self.s.report.step(f"preview-after-canary-{name}", again)
        self.s.report.check(again.returncode == 0, f"{name}: {FIGHT}: {errors(again)}")
        return st

    def up(self, name: str) -> bool:
        done = self.s.cli("up", "--yes", pack=True, program=replica_canary_program)
        self.s.report.step(f"canary-{name}-up", done)
        return self.s.report.check(done.returncode == 0, f"{name}: up failed: {errors(done)}")

    def release(self, digest: str, name: str) -> str | None:
        """A new digest in config and `pulumi up` of the edited program; the new pod-template
        hash once the controller made its ReplicaSet (None: a check failed)."""
        before = self.status().get("currentPodHash")
        rollouts.set_image(self.s.pulumi, self.s.stack, REPLICA_CANARY, digest)
        if not self.up(name):
            return None
        if not self.waited(
            f"{name}: the new ReplicaSet",
            lambda: self.status().get("currentPodHash") not in (None, before),
        ):
            return None
        return str(self.status()["currentPodHash"])

    def walk(self, name: str, until: Callable[[Sample], bool], deadline: float) -> list[Sample]:
        """The Rollout sampled once a second until `until` holds (or the deadline)."""
        samples: list[Sample] = []
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            samples.append(self.sample())
            if until(samples[-1]):
                break
            time.sleep(1)
        self.record["walks"][name] = [s.__dict__ for s in samples]
        return samples

    def analysis_run(self, keep: str = "") -> dict[str, Any]:
        """The release's background AnalysisRun; with `keep`, kept as `analysisrun-<keep>`."""
        current = (self.status().get("canary") or {}).get("currentBackgroundAnalysisRunStatus")
        name = (current or {}).get("name")
        run = self.cluster.analysis_run(name) if name else {}
        if run and keep:
            self.keep(f"analysisrun-{keep}", run)
        return run

    def measured(self, run: dict[str, Any], failing: bool) -> None:
        results = {r["name"]: r for r in run.get("status", {}).get("metricResults", [])}
        self.record["measured" + ("-failing" if failing else "")] = {
            name: [(m.get("phase"), m.get("value")) for m in r.get("measurements", [])]
            for name, r in results.items()
        }
        vs_stable = self.cluster.alert_expr("CanaryErrorRateAboveStable", REPLICA_CANARY)
        problems = measured_problems(run, vs_stable, failing)
        self.s.report.check(not problems, f"canary analysis (failing {failing}): {problems}")

    def has_measured(self) -> bool:
        """Every metric of the canary's track has a measurement with a value."""
        run = self.analysis_run()
        results = {r["name"]: r for r in run.get("status", {}).get("metricResults", [])}
        return all(
            any(m.get("value") for m in results.get(n, {}).get("measurements", []))
            for n in (*TRACK_METRICS, VS_STABLE)
        )

    def revision(self) -> str:
        annotations = self.rollout()["metadata"].get("annotations") or {}
        return str(annotations.get("rollout.argoproj.io/revision", ""))

    def notified(self, event: str, since: int, revision: str = "") -> None:
        """The notification of `event` reached the receiver, as the stack's template says."""
        text = notification_text(
            event, self.s.stack, self.cluster.namespace, REPLICA_CANARY, revision
        )
        self.hook.wait_for(lambda r: (r.json() or {}).get("text") == text, since, 60)
        posts = self.hook.since(since)
        # Each exactly once: the gate comes from the notification controller only (its trigger
        # is named after no event), the others from the events only (they have no condition).
        problems = notification_problems(posts, text, self.channel, self.hook.path)
        sent = sum((r.json() or {}).get("text") == text for r in posts)
        self.record["notifications"][event] = {"posts": sent, "text": text}
        self.s.report.check(not problems, f"the {event} notification: {problems}")

    def run(self) -> None:
        check = self.s.report.check
        # 1. The edit: the Rollout loses its traffic router and header step, nothing else.
        if not self.up("edit"):
            return
        edit = self.s.report.steps["canary-edit-up"]["changes"]
        changes = {op: n for op, n in edit.items() if op != "same"}
        check(changes == {"update": 1}, f"the edit changed more than the Rollout: {changes}")
        if not self.waited(
            "a stable first revision", lambda: self.status().get("phase") == "Healthy"
        ):
            self.stage("edit-not-healthy")
            return
        first = self.stage("edited")
        self.record["first-revision"] = self.revision()
        spec = self.rollout()["spec"]
        steps, replicas = spec["strategy"]["canary"]["steps"], int(spec.get("replicas") or 1)
        self.record["steps"] = steps
        last = len(steps) - 1

        # 2. Healthy: the weights and pauses walk to the gate; measured; held; promoted.
        heard = len(self.hook.received)
        new = self.release(HEALTHY_DIGEST, "release")
        if new is None:
            return
        samples = self.walk(
            "release", lambda s: s.abort or (s.index == last and GATE in s.pauses), 300
        )
        problems = walk_problems(steps, replicas, samples)
        if not check(not problems, f"release: the walk: {problems}"):
            self.stage("release-stopped")
            return
        self.waited("the canary's first measurements", self.has_measured, 180)
        held = self.walk("gate", lambda s: s.abort, 5)
        check(all(s.index == last and GATE in s.pauses for s in held), "the gate did not hold")
        self.measured(self.analysis_run("at-gate"), failing=False)
        self.stage("at-gate", f"paused: {GATE}")
        revision = self.revision()
        self.notified("gate", heard, revision)
        heard = len(self.hook.received)
        promoted = self.infractl("promote")
        self.record["promote"] = {"exit": promoted.returncode, "stdout": promoted.stdout}
        check(promoted.returncode == 0, f"promote: {promoted.stderr}")
        self.waited(
            "the release to complete",
            lambda: (
                self.status().get("phase") == "Healthy" and self.status().get("stableRS") == new
            ),
        )
        done = self.stage("promoted")
        check(done.get("stableRS") != first.get("stableRS"), "promote did not move stable")
        self.notified("completed", heard, revision)

        # 3. Unhealthy: half the canary's requests fail; the controller aborts by itself.
        self.tracks[CANARY].error_ratio = 0.5
        heard = len(self.hook.received)
        bad = self.release(FAILING_DIGEST, "failing")
        if bad is None:
            return
        aborted = self.walk("failing", lambda s: s.abort, 300)
        if not check(aborted[-1].abort, "the controller did not abort the unhealthy canary"):
            self.stage("not-aborted")
            return
        self.measured(self.analysis_run("failed"), failing=True)
        self.waited("the canary scaled down", lambda: self.canary_pods(self.status()) == 0)
        st = self.stage("aborted-by-analysis", "aborted: traffic is back on the stable version")
        check(st.get("stableRS") == new, f"stable moved on abort: {st.get('stableRS')}")
        self.notified("analysis-failed", heard)
        self.notified("aborted", heard)
        self.tracks[CANARY].error_ratio = 0.0


def release_channel(config: dict[str, Any]) -> str | None:
    """The Slack channel of the stack's release-notification receiver."""
    name = config[f"{stacks.NS}:rollouts"]["notifications"]["receiver"]
    receivers = config[f"{stacks.NS}:monitoring"]["alerting"]["receivers"]
    return next(r for r in receivers if r["name"] == name).get("channel")


def canary(s: StackRun) -> str:
    config = s.config
    svc = (config.get(f"{stacks.NS}:services") or {}).get(REPLICA_CANARY) or {}
    report = s.report
    if not report.check(svc.get("strategy", {}).get("type") == "canary", "no canary service"):
        return "no canary service"
    if not report.check(rollouts.available(), f"{rollouts.CONTROLLER} is not built"):
        return "no controller"
    namespace = config[f"{stacks.NS}:environments"][svc["environment"]]["namespace"]
    monitoring = MonitoringConfig.model_validate(config[f"{stacks.NS}:monitoring"])
    record: dict[str, Any] = {
        "service": REPLICA_CANARY, "stages": {}, "walks": {}, "notifications": {},
    }  # fmt: skip
    report.steps["canary"] = record
    cluster = rollouts.Cluster(s.plane.kubeconfig, namespace, s.settings_file)
    host = cluster.prometheus_host(monitoring.namespace)
    if not report.check(host is not None, "no Prometheus Service of the chart in the cluster"):
        return "no Prometheus"
    tracks = {STABLE: prometheus.Track(), CANARY: prometheus.Track()}
    metrics_port = controlplane.free_port()
    rules = cluster.rule_groups(REPLICA_CANARY, prometheus.RULES_EVERY)
    server = prometheus.start(
        s.plane, tracks, {"namespace": namespace, "app": REPLICA_CANARY}, metrics_port,
        name="prometheus-canary", rules=rules,
    )  # fmt: skip
    server.scrape([STABLE])
    network = prometheus.ServiceNetwork(str(host), server.url)
    hook = receiver.releases()
    release = Canary(s, cluster, tracks, server, record, hook, release_channel(config))
    with (
        # The notification settings the chart and the stack deployed, where this controller
        # reads its settings.
        rollouts.notification_settings(s.plane.kubeconfig) as copied,
        hook.serving(),
        releases.on_controller(s, tracks, server, network, metrics_port, record),
        release.pods_make_series(),
    ):
        record["settings-copied"] = copied
        release.run()
    record["received"] = [(r.json() or {}).get("text") for r in hook.since(0)]
    # Nothing else: not the blue-green `api`, which is not paused (`blueGreen != nil` as the gate's
    # condition told the receiver it waited at its gate when the controller first saw it). The
    # first revision's completion may come, and did in both runs whose messages were kept: the
    # controller records it when it first syncs the Rollout.
    expected = {n["text"] for n in record["notifications"].values()}
    expected.add(
        notification_text(
            "completed", s.stack, namespace, REPLICA_CANARY, record.get("first-revision", "")
        )
    )
    unexpected = [t for t in record["received"] if t not in expected]
    report.check(not unexpected, f"notifications nobody expected: {unexpected}")
    return releases.finished(record, release.started)


STEP = Step(
    "canary",
    "prod's canary on the real Argo Rollouts controller with its traffic router left out (a "
    "replica-weighted canary, no header step: e2e/programs.py), its background analysis "
    "measured by a real Prometheus evaluating the stack's recording rules: a healthy release "
    "promoted with `infractl rollout promote`, then an unhealthy one",
    "the weights and timed pauses walk to the gate; the analysis measures the canary's real "
    "series (CanaryErrorRateAboveStable's expression among them); the gate holds until "
    "promoted; the unhealthy canary is aborted by the controller; `infractl rollout status` "
    "agrees with the controller at every stage; `pulumi preview` shows no changes after each",
    canary,
    needs=("up",),
)
