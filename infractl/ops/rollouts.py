"""`infractl rollout`: watch and steer a service's Argo Rollout in the cluster.

Talks to the API server through the official `kubernetes` client (kubeconfig context from the
stack's `kubernetes.context`) and patches the Rollout exactly as Argo's own kubectl plugin does
(argoproj/argo-rollouts v1.9.0, pkg/kubectl-argo-rollouts/cmd/{promote,abort,retry}): JSON merge
patches, on the status subresource first and on the object when the CRD has none.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.model import StackConfig
from infra.kubernetes.analysis import BUDGET_METRIC
from infra.manifests.labels import BUDGET_OVERRIDE
from infra.monitoring.rules import SLO_KINDS
from infra.release import ROLLOUT, service_release
from infractl.errors import InfractlError

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "rollouts"
RUNS, TEMPLATES = "analysisruns", "analysistemplates"
MERGE_PATCH = "application/merge-patch+json"


class RolloutError(InfractlError):
    """The rollout cannot be reached or steered from here."""


@dataclass(frozen=True)
class Target:
    namespace: str
    name: str
    context: str | None


def target(config: StackConfig, service: str) -> Target:
    svc = config.services.get(service)
    if svc is None:
        known = ", ".join(sorted(config.services)) or "none"
        raise RolloutError(f"no service {service!r} in this stack (known: {known})")
    if service_release(config, service, svc).workload.kind != ROLLOUT:
        raise RolloutError(
            f"service {service!r} is released {svc.strategy.type}, not through Argo Rollouts"
        )
    namespace = config.environments[svc.environment].namespace
    return Target(namespace, service, config.kubernetes.context)


class Rollouts:
    """The Rollout API of one cluster, through the official client."""

    def __init__(self, context: str | None) -> None:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
        from urllib3.util.retry import Retry

        _check_kubeconfig_files()
        _bound_exec_plugins()
        # urllib3 logs each retry as a warning; the command's one line says what finally failed.
        logging.getLogger("urllib3").addHandler(logging.NullHandler())
        try:
            with _logged_errors() as errors:
                # One retry, of connecting only: a server that took the request and went quiet
                # is not asked again (each wait is REQUEST_TIMEOUT).
                settings = client.Configuration()
                settings.retries = Retry(total=1, connect=1, read=0, status=0, other=0)
                api_client = config.new_client_from_config(
                    config_file=_kubeconfig_paths(),  # read now, as they were checked
                    context=context,
                    client_configuration=settings,
                )
        except (ConfigException, OSError) as exc:
            raise RolloutError(f"kubeconfig context {context!r}: {exc}") from None
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
            # The client trusts the file's shape: a list where a mapping belongs is not its
            # ConfigException but one of these.
            raise RolloutError(
                f"kubeconfig context {context!r}: the kubeconfig is malformed "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            ) from None
        if errors:  # e.g. the exec credential plugin failed: the client only logs it
            raise RolloutError(f"kubeconfig context {context!r}: {errors[0][:300]}")
        self.api = client.CustomObjectsApi(api_client)

    def _call(
        self, method: str, t: Target, *args: Any, plural: str = PLURAL, **kwargs: Any
    ) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            with _deadline(REQUEST_DEADLINE):
                result = getattr(self.api, method)(
                    GROUP, VERSION, t.namespace, plural, t.name, *args, **kwargs,
                    _request_timeout=REQUEST_TIMEOUT,
                )  # fmt: skip
        except _Expired:
            raise RolloutError(
                f"rollout {t.namespace}/{t.name}: the API server did not finish its answer within "
                f"{REQUEST_DEADLINE:g} s"
            ) from None
        except ApiException as exc:
            if exc.status == 404:
                raise
            raise RolloutError(
                f"rollout {t.namespace}/{t.name}: API server answered {exc.status} {exc.reason}"
            ) from None
        except HTTPError as exc:
            raise RolloutError(f"API server unreachable: {exc}") from None
        except (ValueError, RecursionError):  # the client's json.loads of an answer
            result = "text that is not JSON (or nested too deeply to read)"
        if plural != PLURAL:
            # An AnalysisRun or AnalysisTemplate only adds to a Rollout's status: an answer of
            # another shape adds nothing.
            return dict(result) if isinstance(result, dict) else {}
        problem = rollout_shape_problem(result) or _other_object(result, t)
        if problem:
            done = "" if method.startswith("get") else "the patch was sent, but "
            raise RolloutError(
                f"rollout {t.namespace}/{t.name}: {done}the API server's answer is not this "
                f"Rollout ({problem}); `infractl rollout status` shows where it stands"
            )
        return dict(result)

    def get(self, t: Target) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._call("get_namespaced_custom_object", t)
        except ApiException:
            raise RolloutError(
                f"no Rollout {t.namespace}/{t.name} in the cluster (was `pulumi up` run?)"
            ) from None

    def get_other(self, plural: str, t: Target, name: str) -> dict[str, Any] | None:
        """An object of the release (an AnalysisRun or AnalysisTemplate), None if it is gone."""
        from kubernetes.client.exceptions import ApiException

        try:
            return self._call(
                "get_namespaced_custom_object", Target(t.namespace, name, t.context), plural=plural
            )
        except ApiException:
            return None

    def patch(self, t: Target, body: dict[str, Any], status: bool) -> dict[str, Any]:
        method = "patch_namespaced_custom_object" + ("_status" if status else "")
        return self._call(method, t, body, _content_type=MERGE_PATCH)

    def patch_status_or_object(
        self, t: Target, status_patch: dict[str, Any], unified: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """The plugin's order: the status subresource; on 404 (no subresource), the unified
        patch on the object instead. Returns the result and whether the object was patched."""
        from kubernetes.client.exceptions import ApiException

        try:
            return self.patch(t, status_patch, status=True), False
        except ApiException:
            try:
                return self.patch(t, unified, status=False), True
            except ApiException:
                raise RolloutError(f"no Rollout {t.namespace}/{t.name} in the cluster") from None


# Seconds to connect and to wait for each answer: a server that accepts and never answers is an
# error, not a hang (the client waits forever by default). The read time-out is per read, so a
# server that drips a byte at a time is bounded by the whole call's deadline.
REQUEST_TIMEOUT = (10.0, 30.0)
REQUEST_DEADLINE = 60.0


class _Expired(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Expired in this (the main) thread once `seconds` have passed."""
    import signal

    def expire(_signum: int, _frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


ROLLOUT_CRD = (
    Path(__file__).resolve().parents[2] / "vendor/crds/argo-rollouts/rollouts.argoproj.io.yaml"
)


@functools.cache
def _rollout_schema() -> Any:
    """A validator of the Rollout's schema, as the vendored CRD (the controller's) states it."""
    import jsonschema
    import yaml

    with ROLLOUT_CRD.open() as handle:
        crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == VERSION)
    return jsonschema.Draft7Validator(version["schema"]["openAPIV3Schema"])


def rollout_shape_problem(answer: Any) -> str:
    """Why `answer` is no Rollout object by its CRD's schema (HTML, a list, null, a `status`
    that is a string…), in a few words; "" when it is one. The summary and the patches read
    only what this has checked."""
    from jsonschema.exceptions import best_match

    error = best_match(_rollout_schema().iter_errors(answer))
    if error is None:
        return "" if answer.get("kind") == "Rollout" else f"its kind is {answer.get('kind')!r}"
    where = ".".join(map(str, error.absolute_path)) or "the answer"
    if error.validator == "type":
        got = _JSON_TYPES.get(type(error.instance), "something else")
        return f"{where} is {got}, where the CRD has {error.validator_value}"
    said = error.message if len(error.message) <= 120 else f"fails {error.validator}"
    return f"{where}: {said}"


def _other_object(answer: dict[str, Any], t: Target) -> str:
    """Why a well-formed Rollout is not the one asked for (a proxy or a cluster answering about
    another object), or ""."""
    meta = answer.get("metadata") or {}
    asked, got = (t.namespace, t.name), (meta.get("namespace"), meta.get("name"))
    return "" if got == asked else f"it describes {got[0]}/{got[1]}"


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "an integer",
               float: "a number", bool: "a boolean", type(None): "null"}  # fmt: skip


# How long a kubeconfig's exec credential plugin (aws eks get-token, gke-gcloud-auth-plugin…)
# may take; the client waits forever.
EXEC_PLUGIN_TIMEOUT = 30.0


def _bound_exec_plugins() -> None:
    """Give the client's exec credential plugins a time-out. The client calls
    `subprocess.Popen(...).communicate()` with none; its module gets a Popen whose
    `communicate` has one (kills the plugin, and reports it as the client reports a failing
    plugin)."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import types
    from typing import IO

    from kubernetes.config import exec_provider
    from kubernetes.config.config_exception import ConfigException

    class TimedPopen(subprocess.Popen[str]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # On a terminal the client hands the plugin our stderr (for a login prompt): it is
            # read here instead and copied through sys.stderr, so it is redacted and inert.
            relay = kwargs.get("stderr") not in (None, subprocess.PIPE)
            if relay:
                kwargs["stderr"] = subprocess.PIPE
            # Its own process group: a plugin's children (a shell's `sleep`) hold the pipes too.
            super().__init__(*args, **kwargs, start_new_session=True)
            self.relayed: list[str] = []
            self.relay: threading.Thread | None = None
            if relay and self.stderr is not None:
                pipe, self.stderr = self.stderr, None  # communicate() reads stdout alone
                self.relay = threading.Thread(target=self._copy, args=(pipe,), daemon=True)
                self.relay.start()

        def _copy(self, pipe: IO[str]) -> None:
            for line in pipe:
                self.relayed.append(line)
                sys.stderr.write(line)
                sys.stderr.flush()

        def communicate(self, input: Any = None, timeout: float | None = None) -> Any:
            out, err = self._communicate_bounded(input)
            if self.relay is not None:
                self.relay.join(timeout=1.0)
                err = "".join(self.relayed)
            return out, err

        def _communicate_bounded(self, input: Any) -> Any:
            try:
                return super().communicate(input, timeout=EXEC_PLUGIN_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                super().communicate()
                command = self.args[0] if isinstance(self.args, list) else self.args
                raise ConfigException(
                    f"exec: credential plugin {command!r} did not answer within "
                    f"{EXEC_PLUGIN_TIMEOUT:.0f} s"
                ) from None

    exec_provider.subprocess = types.SimpleNamespace(  # type: ignore[assignment]
        Popen=TimedPopen, PIPE=subprocess.PIPE
    )


@contextlib.contextmanager
def _logged_errors() -> Iterator[list[str]]:
    """The errors the client logs instead of raising (a failed exec plugin), collected rather
    than printed: the command's one line reports them."""
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    try:
        yield errors
    finally:
        root.removeHandler(handler)


def _kubeconfig_paths() -> str:
    """`$KUBECONFIG` (paths joined by `:`), else ~/.kube/config, as they are now (the client's
    own default is what they were when it was imported)."""
    import os

    listed = os.pathsep.join(p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p)
    return listed or os.path.expanduser("~/.kube/config")


def _check_kubeconfig_files() -> None:
    """Every file the client would read (`$KUBECONFIG`, else ~/.kube/config) read through the
    bounded reader first: a FIFO, a device or a folder there is one line, never a hang."""
    import os

    from infra.config.documents import DocumentError, load_yaml

    for path in map(Path, _kubeconfig_paths().split(os.pathsep)):
        try:
            if path.exists():  # the client skips listed files that do not exist
                load_yaml(path)
        except DocumentError as exc:
            raise RolloutError(f"kubeconfig {path}: {exc}") from None


def _steps(rollout: dict[str, Any]) -> list[Any]:
    return rollout.get("spec", {}).get("strategy", {}).get("canary", {}).get("steps") or []


def _step_index(rollout: dict[str, Any]) -> int | None:
    """GetCurrentCanaryStep's index: None without canary steps, else the status index or 0."""
    if not _steps(rollout):
        return None
    return int(rollout.get("status", {}).get("currentStepIndex") or 0)


def _next_step(rollout: dict[str, Any]) -> int | None:
    index = _step_index(rollout)
    if index is not None and index < len(_steps(rollout)):
        index += 1
    return index


def promote_patches(
    rollout: dict[str, Any], full: bool
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any]]:
    """(spec patch, status patch, unified patch) as the plugin's getPatches builds them."""
    spec, status = rollout.get("spec", {}), rollout.get("status", {})
    unpause = {"spec": {"paused": False}} if spec.get("paused") else None
    if full:
        promote = (
            {"status": {"promoteFull": True}}
            if status.get("currentPodHash") != status.get("stableRS")
            else None
        )
        return unpause, promote, {"spec": {"paused": False}, "status": {"promoteFull": True}}
    unified: dict[str, Any] = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    pauses = status.get("pauseConditions") or []
    inconclusive = (
        status.get("canary", {}).get("currentStepAnalysisRunStatus", {}).get("status")
        == "Inconclusive"
    )
    status_patch: dict[str, Any] | None = None
    if (
        "canary" in spec.get("strategy", {})
        and inconclusive
        and pauses
        and status.get("controllerPause")
    ):
        index = _next_step(rollout)
        if index is not None:
            status_patch = {
                "status": {"pauseConditions": None, "controllerPause": False,
                           "currentStepIndex": index}
            }  # fmt: skip
    elif pauses:
        status_patch = {"status": {"pauseConditions": None}}
    elif "canary" in spec.get("strategy", {}):
        index = _next_step(rollout)
        if index is not None:
            status_patch = {"status": {"pauseConditions": None, "currentStepIndex": index}}
            unified = {
                "spec": {"paused": False},
                "status": {"pauseConditions": None, "currentStepIndex": index},
            }
    return unpause, status_patch, unified


def promote(api: Rollouts, t: Target, full: bool) -> dict[str, Any]:
    rollout = api.get(t)
    spec_patch, status_patch, unified = promote_patches(rollout, full)
    result = rollout
    if status_patch is not None:
        result, used_unified = api.patch_status_or_object(t, status_patch, unified)
        if used_unified:
            return result
    if spec_patch is not None:
        result = api.patch(t, spec_patch, status=False)
    return result


def abort(api: Rollouts, t: Target) -> dict[str, Any]:
    patch = {"status": {"abort": True}}
    return api.patch_status_or_object(t, patch, patch)[0]


def _blue_green(rollout: dict[str, Any]) -> bool:
    return "blueGreen" in (rollout.get("spec", {}).get("strategy") or {})


def retry(api: Rollouts, t: Target) -> dict[str, Any]:
    rollout = api.get(t)
    if _blue_green(rollout):
        # Seen twice under make e2e (2026-12-03): the controller (v1.9.0) took a retried
        # blue-green release straight to active, past its promotion gate; so did setting the
        # stable digest back and then the new one (the aborted ReplicaSet is reused, and it
        # carries a scale-down deadline, which the controller reads as a fast-tracked update).
        raise RolloutError(
            f"retry of blue-green {t.namespace}/{t.name} refused: Argo Rollouts would promote a "
            "retried release without its promotion gate. Release a new digest instead (a new "
            "pod template goes through preview, analysis and the gate); "
            "docs/runbooks/releases.md, Retry"
        )
    patch = {"status": {"abort": False}}
    return api.patch_status_or_object(t, patch, patch)[0]


def _strategy(rollout: dict[str, Any]) -> dict[str, Any]:
    strategy = rollout.get("spec", {}).get("strategy") or {}
    return dict(strategy.get("canary") or strategy.get("blueGreen") or {})


def _runs(rollout: dict[str, Any]) -> list[dict[str, Any]]:
    status = rollout.get("status", {})
    found = [
        status.get("canary", {}).get("currentBackgroundAnalysisRunStatus"),
        status.get("blueGreen", {}).get("prePromotionAnalysisRunStatus"),
    ]
    return [run for run in found if run]


@dataclass(frozen=True)
class Analysis:
    """What the release's analysis objects add to its status: the AnalysisRun of a failed
    analysis (its measurements), and an error-budget override on its templates."""

    run: dict[str, Any] | None = None
    override: str | None = None


def _dig(answer: Any, *keys: str) -> Any:
    """answer[k1][k2]..., or None where an answer of another shape has no such mapping (an
    AnalysisRun or AnalysisTemplate is read as the API server gave it, unchecked)."""
    for key in keys:
        answer = answer.get(key) if isinstance(answer, dict) else None
    return answer


def analysis(api: Rollouts, t: Target, rollout: dict[str, Any]) -> Analysis:
    strategy = _strategy(rollout)
    templates = [
        ref["templateName"]
        for key in ("analysis", "prePromotionAnalysis")
        for ref in (strategy.get(key) or {}).get("templates") or []
    ]
    override = None
    for name in templates:
        said = _dig(api.get_other(TEMPLATES, t, name), "metadata", "annotations", BUDGET_OVERRIDE)
        if isinstance(said, str) and said.strip():
            # One line: an annotation edited on the cluster must not forge lines of the status.
            override = " ".join(said.split())[:300]
            break
    failed = [r for r in _runs(rollout) if r.get("status") in ("Failed", "Error")]
    # Under an override the budget is measured in dry-run: the run shows whether it is spent.
    wanted = failed or (_runs(rollout) if override else [])
    run = api.get_other(RUNS, t, wanted[0]["name"]) if wanted and wanted[0].get("name") else None
    return Analysis(run, override)


def _budget_results(found: Analysis) -> dict[str, dict[str, Any]]:
    """The budget metrics' results in the release's AnalysisRun, by SLO."""
    found_results = _dig(found.run, "status", "metricResults")
    results = {
        r.get("name"): r
        for r in (found_results if isinstance(found_results, list) else [])
        if isinstance(r, dict)
    }
    return {kind: results.get(BUDGET_METRIC.format(kind=kind), {}) for kind in SLO_KINDS}


def _left(result: dict[str, Any], floor: float | None) -> str:
    """' -8% left, below the floor 10%': a budget metric's last measurement, as far as known."""
    measurements = result.get("measurements")
    measured = _dig(measurements[-1], "value") if isinstance(measurements, list) else None
    value = measured.strip("[]").split(",")[0] if isinstance(measured, str) else ""
    try:
        left = f" {float(value):.0%} left" if value else ""
    except ValueError:
        left = ""
    return left + (f", below the floor {floor:.0%}" if floor is not None else "")


def _budget_lines(
    rollout: dict[str, Any], found: Analysis, floor: float | None
) -> tuple[list[str], bool]:
    """Which error budgets failed the gate, with what was left when they did; under an
    override, which failed it in dry-run (the release went on). And whether the budget held
    the release."""
    messages = " ".join(
        [str(r.get("message", "")) for r in _runs(rollout)]
        + [str(rollout.get("status", {}).get("message", ""))]
    )
    lines, held = [], False
    for kind, result in _budget_results(found).items():
        failed = result.get("phase") == "Failed"
        if result.get("dryRun") is True:
            if failed:
                lines.append(
                    f"  error budget spent, measured in dry-run: {kind}{_left(result, floor)} "
                    "(remove analysis.budgetOverride once the fix is out)"
                )
            continue
        if f'"{BUDGET_METRIC.format(kind=kind)}"' not in messages and not failed:
            continue
        held = True
        lines.append(
            f"  held by the error budget: {kind}{_left(result, floor)} (analysis.budgetFloor)"
        )
    if held:
        lines.append(
            "  traffic stays on the stable version; releases wait until the budget is back above "
            "the floor, an emergency fix goes through analysis.budgetOverride "
            "(docs/runbooks/releases.md, Held by the error budget)"
        )
    return lines, held


SHOWN_PAUSES = 5


def summary(
    rollout: dict[str, Any], found: Analysis | None = None, floor: float | None = None
) -> tuple[str, bool]:
    """A few lines a person can act on, and whether the rollout is in trouble."""
    found = found or Analysis()
    meta, status = rollout.get("metadata", {}), rollout.get("status", {})
    phase = status.get("phase", "Unknown")
    lines = [f"Rollout {meta.get('namespace')}/{meta.get('name')}: {phase}"]
    if status.get("message"):
        lines.append(f"  message: {status['message']}")
    steps = _steps(rollout)
    if steps:
        index = _step_index(rollout) or 0
        lines.append(f"  step: {index}/{len(steps)}")
        weights = status.get("canary", {}).get("weights", {})
        if weights:
            lines.append(
                f"  weight: canary {weights.get('canary', {}).get('weight', 0)}%, "
                f"stable {weights.get('stable', {}).get('weight', 0)}%"
            )
    for run in _runs(rollout):
        line = f"  analysis {run.get('name')}: {run.get('status')}"
        lines.append(f"{line} ({run['message']})" if run.get("message") else line)
    if found.override:
        lines.append(f"  error-budget gate overridden {found.override} (analysis.budgetOverride)")
    pauses = status.get("pauseConditions") or []
    for condition in pauses[:SHOWN_PAUSES]:
        lines.append(f"  paused: {condition.get('reason')} (promote to continue)")
    if len(pauses) > SHOWN_PAUSES:  # the controller sets one or two; more is a broken answer
        lines.append(f"  … and {len(pauses) - SHOWN_PAUSES} more pause conditions")
    budget, held = _budget_lines(rollout, found, floor)
    lines += budget
    if status.get("abort") and not held:
        # A fix is a new digest; retry runs the same image again (blue-green: refused, see retry).
        then = "" if _blue_green(rollout) else " (or `retry`, if the analysis was wrong)"
        lines.append(
            "  aborted: traffic is back on the stable version; "
            f"fix, then release a new digest{then}"
        )
    lines.append(
        f"  stable: {status.get('stableRS', '-')}, current: {status.get('currentPodHash', '-')}"
    )
    trouble = bool(status.get("abort")) or phase == "Degraded"
    return "\n".join(lines), trouble
