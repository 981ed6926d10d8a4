"""The security floor of each stack: settings no config change may weaken, as data.

A floor names the environment tiers the stack may declare, the repository settings every
repository it governs must keep (each a `Guard`), and the policies its policy config may not
turn down from mandatory. Prod's floor comes from the seed's branch-protection requirements and
the OpenSSF Scorecard checks this project aims at (Branch-Protection tier 4, Pinned-Dependencies,
Token-Permissions, SAST, Dependency-Update-Tool, Vulnerabilities); staging governs a public
sandbox, so it keeps everything but visibility, the prod-only environment and the stricter
review rules. A stack without a floor of its own gets prod's.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from infra.config.base import as_duration, in_seconds, quantity_value, seconds
from infra.config.errors import ConfigProblem
from infra.config.gateway import GATEWAY_CHART
from infra.config.github import (
    DEFAULT_CHECKS,
    DeploymentEnvironment,
    RepositorySettings,
    effective_owners,
)
from infra.config.model import StackConfig
from infra.config.monitoring import (
    ERROR_FOR,
    ERROR_WINDOW,
    FAST_BURN,
    FAST_BURN_WINDOW,
    SLO_PERIOD,
    Alerting,
    MonitoringConfig,
)
from infra.config.resources import ContainerDefaults, PrometheusResources, Resources
from infra.config.rollouts import GATEWAY_PLUGIN, RolloutsController

TEAM_OWNER = r"@[A-Za-z0-9-]+/[A-Za-z0-9._-]+"
PRODUCTION = "production"


@dataclass(frozen=True)
class Guard:
    """One security-relevant repository setting and the least it may be."""

    name: str  # id, e.g. "bypass-actors"
    setting: str  # key below github.repositories.<repo>, as messages name it
    floor: str  # the least allowed, in words
    holds: Callable[[RepositorySettings], bool]


def _production(s: RepositorySettings) -> DeploymentEnvironment | None:
    return s.environments.get(PRODUCTION)


# Paths that stand for the guarded patterns `*` and `/.github/`: judged by who *effectively*
# owns each (the last matching line), not by which lines exist.
GUARDED_PATHS = ("README.md", "src/app/main.py", ".github/CODEOWNERS", ".github/workflows/x.yml")


def _owned_by_teams(s: RepositorySettings) -> bool:
    if not s.codeowners:
        return True  # the generated default: everything and /.github/ owned by team-leads
    return all(
        any(re.fullmatch(TEAM_OWNER, o) for o in effective_owners(s.codeowners, path))
        for path in GUARDED_PATHS
    )


def approvals(minimum: int) -> Guard:
    return Guard(
        "approvals",
        "branchRules.requiredApprovals",
        f">= {minimum}",
        lambda s: s.branch_rules.required_approvals >= minimum,
    )


COMMON: tuple[Guard, ...] = (
    Guard(
        "bypass-actors",
        "branchRules.bypassActors",
        "empty: nobody bypasses the rules, in any mode (always, pull_request or exempt)",
        lambda s: not s.branch_rules.bypass_actors,
    ),
    Guard(
        "ruleset-active",
        "branchRules.enforcement",
        "'active'",
        lambda s: s.branch_rules.enforcement == "active",
    ),
    Guard(
        "stale-reviews",
        "branchRules.dismissStaleReviews",
        "true",
        lambda s: s.branch_rules.dismiss_stale_reviews,
    ),
    Guard(
        "last-push-approval",
        "branchRules.requireLastPushApproval",
        "true",
        lambda s: s.branch_rules.require_last_push_approval,
    ),
    Guard(
        "required-checks",
        "branchRules.requiredChecks",
        f"at least {', '.join(DEFAULT_CHECKS)} on an up-to-date branch (strictChecks)",
        lambda s: (
            set(DEFAULT_CHECKS) <= set(s.branch_rules.required_checks)
            and s.branch_rules.strict_checks
        ),
    ),
    Guard(
        "conversation-resolution",
        "branchRules.requireConversationResolution",
        "true",
        lambda s: s.branch_rules.require_conversation_resolution,
    ),
    Guard(
        "history",
        "branchRules",
        "linearHistory, blockForcePushes and blockDeletion all true",
        lambda s: (
            s.branch_rules.linear_history
            and s.branch_rules.block_force_pushes
            and s.branch_rules.block_deletion
        ),
    ),
    Guard(
        "actions-allow-list",
        "actions.allowedActions",
        "'selected' or 'local_only' (never all actions)",
        lambda s: s.actions.allowed_actions != "all",
    ),
    Guard(
        "sha-pinning",
        "actions.shaPinningRequired",
        "true",
        lambda s: s.actions.sha_pinning_required,
    ),
    Guard(
        "workflow-token",
        "actions",
        "defaultWorkflowPermissions 'read' and canApprovePullRequests false",
        lambda s: (
            s.actions.default_workflow_permissions == "read"
            and not s.actions.can_approve_pull_requests
        ),
    ),
    Guard(
        "team-permissions",
        "teams",
        "no team above 'maintain' (admins are granted by the organisation, not here)",
        lambda s: all(t.permission != "admin" for t in s.teams),
    ),
    Guard(
        "codeowners",
        "codeowners",
        "every file, and '/.github/', owned by a team (@org/team) as the last matching line "
        "decides",
        _owned_by_teams,
    ),
    Guard(
        "required-workflows",
        "workflows.enabled",
        "includes codeql and dependency-check (which reports the required Dependency Review)",
        lambda s: {"codeql", "dependency-check"} <= set(s.workflows.enabled),
    ),
    Guard(
        "dependabot",
        "dependabot.openPullRequestsLimit",
        ">= 1 (0 turns version updates off)",
        lambda s: s.dependabot.open_pull_requests_limit >= 1,
    ),
    Guard(
        "vulnerability-alerts",
        "security",
        "vulnerabilityAlerts and dependabotSecurityUpdates true",
        lambda s: s.security.vulnerability_alerts and s.security.dependabot_security_updates,
    ),
    Guard(
        "secret-scanning",
        "security",
        "secretScanning and pushProtection true",
        lambda s: s.security.secret_scanning and s.security.push_protection,
    ),
)

PROD_ONLY: tuple[Guard, ...] = (
    Guard(
        "visibility",
        "visibility",
        "'private' or 'internal'",
        lambda s: s.visibility != "public",
    ),
    approvals(2),
    Guard(
        "code-owner-review",
        "branchRules.requireCodeOwnerReview",
        "true",
        lambda s: s.branch_rules.require_code_owner_review,
    ),
    Guard(
        "production-environment",
        f"environments.{PRODUCTION}",
        "present, with required reviewers, self-review prevented, admins unable to bypass, and "
        "deployments from the default branch only",
        lambda s: (
            (env := _production(s)) is not None
            and bool(env.reviewers)
            and env.prevent_self_review
            and not env.can_admins_bypass
            and env.default_branch_only
        ),
    ),
    Guard(
        "managed-files-route",
        "managedFiles.via",
        "'pullRequest' (files reach the default branch by reviewed pull request)",
        lambda s: s.managed_files.via == "pullRequest",
    ),
)


@dataclass(frozen=True)
class ParameterFloor:
    """A policy parameter the stack's policy config may not weaken: a mandatory policy with its
    threshold at zero is switched off in effect. Judged on the value the pack would be
    configured with (the schema's default where the file gives none)."""

    policy: str
    parameter: str
    floor: str  # what it must be, in the words of an error message
    holds: Callable[[object, object], bool]  # (value, the schema's default)


def _number_at_least(value: object, minimum: float) -> bool:
    # Schema defaults arrive through protobuf, where every number is a float.
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum


def _is_true(value: object, _default: object) -> bool:
    return value is True


def _at_least(minimum: int) -> Callable[[object, object], bool]:
    return lambda v, _: _number_at_least(v, minimum)


def min_approvals(minimum: int) -> ParameterFloor:
    return ParameterFloor(
        "github-ruleset-reviews", "requiredApprovals", f">= {minimum}", _at_least(minimum)
    )


COMMON_PARAMETERS: tuple[ParameterFloor, ...] = (
    ParameterFloor(
        "github-ruleset-required-checks",
        "requiredChecks",
        f"a list including {', '.join(DEFAULT_CHECKS)}",
        lambda v, _: isinstance(v, list) and set(DEFAULT_CHECKS) <= set(v),
    ),
    ParameterFloor("k8s-images-pinned", "requireDigest", "true", _is_true),
)


def _scorecard_minimums(value: object, default: object) -> bool:
    # Held to the pack's own default minimums (its schema): an empty map leaves those in force,
    # a partial one drops the checks it omits, a lower score holds a check to less.
    if not isinstance(value, dict) or not isinstance(default, dict):
        return False
    return not value or all(_number_at_least(value.get(c), least) for c, least in default.items())


PROD_PARAMETERS: tuple[ParameterFloor, ...] = (
    min_approvals(2),
    ParameterFloor(
        "github-scorecard-floor",
        "minimums",
        "every check of the pack's default minimums at its score or higher",
        _scorecard_minimums,
    ),
    ParameterFloor("k8s-production-high-availability", "minReplicas", ">= 2", _at_least(2)),
    ParameterFloor("monitoring-storage-retained", "requireRetention", "true", _is_true),
)


@dataclass(frozen=True)
class Floor:
    tiers: frozenset[str]  # environment tiers the stack may declare
    guards: tuple[Guard, ...]
    # Policies its policy config may not set below mandatory; None: every policy of the pack.
    mandatory_policies: frozenset[str] | None
    parameters: tuple[ParameterFloor, ...] = ()


FLOORS: dict[str, Floor] = {
    "prod": Floor(
        frozenset({PRODUCTION}),
        (*COMMON, *PROD_ONLY),
        None,
        (*COMMON_PARAMETERS, *PROD_PARAMETERS),
    ),
    "staging": Floor(
        frozenset({"staging"}),
        (*COMMON, approvals(1)),
        frozenset(
            {
                "github-secret-scanning",
                "github-repository-protected",
                "github-single-stack-ownership",
                "k8s-images-pinned",
                "k8s-pod-security-restricted",
            }
        ),
        (*COMMON_PARAMETERS, min_approvals(1)),
    ),
}


# ---- Kubernetes and monitoring (issue 35.5) ----
# Rows in the shape of the minimums table (wp-config step 2: `Minimum(key, {stack: Bound},
# reason)`), so they join that table as they are. Keys are stack config keys, `<name>` standing
# for any name. A `Derived` bound is computed from the rest of the stack's config (the SLO, the
# receivers, the alert thresholds): bounds from intent, not numbers of their own.


@dataclass(frozen=True)
class Bound:
    """The least a value may be, in the words of an error and as a test."""

    words: str
    holds: Callable[[Any], bool]
    value: Any = None


@dataclass(frozen=True)
class Derived:
    """A bound that depends on the stack's own config."""

    of: Callable[[StackConfig], Bound]


@dataclass(frozen=True)
class Minimum:
    """One row of the floor: a key, the least it may be on each stack, and why."""

    key: str
    stacks: Mapping[str, Bound | Derived]
    reason: str
    name: str = field(default="")


def both(bound: Bound | Derived) -> dict[str, Bound | Derived]:
    return {"prod": bound, "staging": bound}


def holds(words: str, test: Callable[[Any], bool]) -> Bound:
    return Bound(words, test)


def equal_to(expected: Any, words: str | None = None) -> Bound:
    return Bound(words or repr(expected), lambda v: v == expected, expected)


def at_most(maximum: float, words: str) -> Bound:
    return Bound(f"<= {maximum:.4g} ({words})", lambda v: v is not None and v <= maximum, maximum)


def duration_at_least(minimum: str, words: str) -> Bound:
    return Bound(
        f">= {minimum} ({words})",
        lambda v: v is not None and seconds(v) >= seconds(minimum),
        minimum,
    )


def duration_at_most(maximum: str, words: str) -> Bound:
    return Bound(
        f"<= {maximum} ({words})", lambda v: v is not None and seconds(v) <= seconds(maximum)
    )


def quantity_at_least(minimum: str, words: str) -> Bound:
    # An unset limit (Prometheus' CPU) is left to the policy pack's k8s-requests-and-limits.
    return Bound(
        f">= {minimum} ({words})",
        lambda v: v is None or quantity_value(v) >= quantity_value(minimum),
        minimum,
    )


def _field(model: BaseModel, alias: str) -> Any:
    for name, info in type(model).model_fields.items():
        if alias in (name, info.alias):
            return getattr(model, name)
    raise KeyError(alias)


def values_at(node: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """Each concrete key matching `parts` below `node`, with its value (None where a mapping
    has no such entry); nothing below an absent optional section or another strategy's keys."""
    if not parts:
        yield path, node
        return
    part, rest = parts[0], parts[1:]
    join = f"{path}." if path else ""
    if isinstance(node, dict):
        names = sorted(node) if part.startswith("<") else [part]
        for name in names:
            yield from values_at(node.get(name), rest, f"{join}{name}")
    elif isinstance(node, BaseModel):
        try:
            value = _field(node, part)
        except KeyError:
            return
        if value is not None or not rest:
            yield from values_at(value, rest, f"{join}{part}")


def _slo(config: StackConfig) -> Any:
    return config.monitoring.slo if config.monitoring else SLO


def _budget(config: StackConfig) -> float:
    return 1 - _slo(config).availability


# HighErrorRate fires this long after errors start at its threshold.
ERROR_ALERT_DELAY = as_duration(seconds(ERROR_WINDOW) + seconds(ERROR_FOR))


def _error_alert_limit(config: StackConfig) -> Bound:
    # At ratio r, the alert's delay spends r x delay of budget; the fast-burn page allows
    # FAST_BURN x budget x its window (2% of the period's budget per hour).
    limit = (
        FAST_BURN * _budget(config) * in_seconds(FAST_BURN_WINDOW) / in_seconds(ERROR_ALERT_DELAY)
    )
    return at_most(
        limit,
        f"{FAST_BURN:g} x the error budget of slo.availability over {FAST_BURN_WINDOW}, "
        f"spread over the {ERROR_ALERT_DELAY} HighErrorRate needs to fire",
    )


def _receiver_of(alerting: Alerting, severity: str) -> str | None:
    return alerting.routes.get(severity) or alerting.default_receiver  # type: ignore[call-overload]


def _pages(config: StackConfig) -> Bound:
    alerting = config.monitoring.alerting if config.monitoring else Alerting()
    types_ = {r.name: r.type for r in alerting.receivers}
    return holds(
        "a pagerduty receiver (the route, or defaultReceiver when there is none)",
        lambda v: types_.get(v or alerting.default_receiver or "") == "pagerduty",
    )


def _strategy_timing(strategy: Any) -> bool:
    analysis = strategy.analysis
    delay = seconds(ERROR_ALERT_DELAY)
    measured = (analysis.failure_limit + 1) * seconds(analysis.interval)
    timely = measured <= delay and seconds(analysis.window) <= delay
    steps = getattr(strategy, "steps", None)
    if steps is None:
        return timely
    # The gate's weight is reached only after a smaller one was measured for a whole window.
    paced = len(steps) > 1 and all(
        s.pause is None or seconds(s.pause) >= seconds(analysis.window) for s in steps
    )
    return timely and paced


def _chart(chart: tuple[str, str]) -> Bound:
    name, repository = chart
    return holds(f"{name} from {repository}",
                 lambda v: (v.name, v.repository) == (name, repository))  # fmt: skip


def _default_chart(model: type[BaseModel], name: str) -> tuple[str, str]:
    default = model.model_fields[name].get_default(call_default_factory=True)
    return default.name, default.repository


def _model_types(annotation: Any) -> Iterator[tuple[bool, type[BaseModel]]]:
    """(inside a mapping, model) for each model an annotation holds."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _model_types(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _model_types(arg)
    elif origin is dict:
        for _, model in _model_types(typing.get_args(annotation)[1]):
            yield True, model
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield False, annotation


SIZED = (Resources, PrometheusResources, ContainerDefaults)


def _sized(
    model: type[BaseModel], default: BaseModel | None, prefix: str
) -> Iterator[tuple[str, Any]]:
    """(key, its default) of every resources setting below `model`."""
    for name, info in model.model_fields.items():
        value = getattr(default, name, None) if default is not None else None
        if value is None and not info.is_required():
            value = info.get_default(call_default_factory=True)
        for inside, kind in _model_types(info.annotation):
            key = f"{prefix}{info.alias or name}" + (".<name>" if inside else "")
            if issubclass(kind, SIZED):
                if value is not None:
                    yield key, value
            elif not inside or value is None:
                yield from _sized(kind, value if not inside else None, f"{key}.")
            else:
                yield from _sized(kind, None, f"{key}.")


@functools.cache
def _sized_keys() -> tuple[tuple[str, Any], ...]:
    return tuple(_sized(StackConfig, None, ""))


def _sizing_rows() -> tuple[Minimum, ...]:
    return tuple(
        Minimum(
            f"{key}.limits.{kind}",
            {"prod": quantity_at_least(getattr(default.requests, kind), "its default request")},
            "a limit below what the workload is sized to need (its default request) has it "
            "OOM-killed in a loop, or starved of CPU, as soon as it works",
            name="workload-limits",
        )
        for key, default in _sized_keys()
        for kind in ("cpu", "memory")
    )


SLO = MonitoringConfig.model_fields["slo"].get_default(call_default_factory=True)
PUBLISHED_SLO = (
    "prod's published objective, which every burn-rate page and error budget is computed from"
)
KUBERNETES_TABLE: tuple[Minimum, ...] = (
    Minimum(
        "kubernetes.context",
        {"prod": holds("set (a named kubeconfig context)", lambda v: v is not None)},
        "prod deploys to its own cluster, never to whichever context happens to be current",
        name="cluster-context",
    ),
    Minimum(
        "monitoring.alerting.routes.critical",
        {"prod": Derived(_pages)},
        "critical alerts (a fast error-budget burn, a crash loop, a failing canary) must page "
        "whoever is on call; a chat channel is read when someone looks",
        name="paging-route",
    ),
    Minimum(
        "monitoring.alerting.routes.warning",
        {
            "prod": Derived(
                lambda c: holds(
                    "a receiver (the route, or defaultReceiver)",
                    lambda v: bool(v or (c.monitoring and c.monitoring.alerting.default_receiver)),
                )
            )
        },
        "a warning that reaches nobody is dropped (the 'null' receiver)",
        name="warning-route",
    ),
    Minimum(
        "monitoring.slo.availability",
        {"prod": Bound(f">= {SLO.availability}", lambda v: v >= SLO.availability)},
        PUBLISHED_SLO,
        name="slo",
    ),
    Minimum(
        "monitoring.slo.latency",
        {"prod": Bound(f">= {SLO.latency}", lambda v: v >= SLO.latency)},
        PUBLISHED_SLO,
        name="slo",
    ),
    Minimum(
        "monitoring.slo.latencyThreshold",
        {"prod": duration_at_most(SLO.latency_threshold, "the latency objective's threshold")},
        PUBLISHED_SLO,
        name="slo",
    ),
    Minimum(
        "monitoring.thresholds.errorRatio",
        {"prod": Derived(_error_alert_limit)},
        "the error alert must fire before its own delay spends more of the error budget than "
        "the fast burn-rate page allows in an hour",
        name="error-alert",
    ),
    Minimum(
        "monitoring.thresholds.latencyP95",
        {
            "prod": Derived(
                lambda c: duration_at_most(_slo(c).latency_threshold, "slo.latencyThreshold")
            )
        },
        "above the latency objective's threshold the p95 alert waits until 5% of requests miss "
        "it, several times the latency error budget",
        name="latency-alert",
    ),
    Minimum(
        "monitoring.thresholds.canaryErrorFloor",
        {"prod": Derived(lambda c: at_most(c.thresholds.error_ratio, "thresholds.errorRatio"))},
        "a canary failing as often as would alert on any service must trip the canary alert",
        name="canary-alert",
    ),
    Minimum(
        "monitoring.thresholds.canaryErrorFactor",
        {
            "prod": Derived(
                lambda c: at_most(
                    c.thresholds.error_ratio / _budget(c),
                    "thresholds.errorRatio / the error budget",
                )
            )
        },
        "with stable at its error budget's ratio, a canary failing factor times as often must "
        "not pass unnoticed beyond the service's own error threshold",
        name="canary-alert",
    ),
    Minimum(
        "monitoring.prometheus.retention",
        {"prod": duration_at_least(SLO_PERIOD, "the SLO period")},
        "the metrics cover the period the error budgets are counted over",
        name="metrics-history",
    ),
    Minimum(
        "monitoring.loki.enabled",
        {"prod": equal_to(True, "true")},
        "production's logs are kept for incident review",
        name="logs",
    ),
    Minimum(
        "monitoring.loki.retention",
        {"prod": duration_at_least(SLO_PERIOD, "the SLO period")},
        "every spent error budget can be traced in the logs of its period",
        name="logs",
    ),
    Minimum(
        "services.<name>.strategy.analysis.errorRatio",
        {"prod": Derived(lambda c: at_most(c.thresholds.error_ratio, "thresholds.errorRatio"))},
        "a release passes its analysis only at an error ratio the running service would not "
        "alert on",
        name="release-analysis",
    ),
    Minimum(
        "services.<name>.strategy.analysis.latencyP95",
        {
            "prod": Derived(
                lambda c: duration_at_most(c.thresholds.latency_p95, "thresholds.latencyP95")
            )
        },
        "a release passes its analysis only at a latency the running service would not alert on",
        name="release-analysis",
    ),
    Minimum(
        "services.<name>.strategy",
        {
            "prod": holds(
                f"analysed in time: (failureLimit + 1) x interval and the window each at most "
                f"{ERROR_ALERT_DELAY} (HighErrorRate's delay), and a canary's gate reached "
                "only after at least one step, each paused at least the analysis window",
                lambda v: not hasattr(v, "analysis") or _strategy_timing(v),
            )
        },
        "the analysis must abort a bad release no later than the error alert would fire, and "
        "measure every canary weight before the next",
        name="release-analysis",
    ),
    Minimum(
        "services.<name>.strategy.type",
        {"prod": holds("'blueGreen' or 'canary'", lambda v: v in ("blueGreen", "canary"))},
        "a production release is analysed against the service's alerts and waits for a person; "
        "a rolling update replaces every pod unanalysed and ungated",
        name="human-gate",
    ),
    Minimum(
        "services.<name>.strategy.promotion.mode",
        {"prod": equal_to("manual", "'manual'")},
        "a production release waits for a person (`infractl rollout promote`) after analysis",
        name="human-gate",
    ),
    Minimum(
        "services.<name>.strategy.maxWeight",
        {"prod": at_most(0.5, "half of production's traffic")},
        "no more than half of production's traffic reaches an image nobody has promoted",
        name="human-gate",
    ),
    Minimum(
        "rollouts.replicas",
        {"prod": Bound(">= 2", lambda v: v >= 2, 2)},
        "every release depends on the controller; a second replica takes over within seconds "
        "on a node drain",
        name="high-availability",
    ),
    Minimum(
        "rollouts.gatewayPluginImage",
        both(
            holds(f"{GATEWAY_PLUGIN}@sha256:<digest>", lambda v: v.startswith(f"{GATEWAY_PLUGIN}@"))
        ),
        "the plugin runs inside the Argo Rollouts controller, with its cluster-wide rights over "
        "Rollouts, Services and HTTPRoutes: only the upstream project's image",
        name="trusted-controllers",
    ),
    *(
        Minimum(
            key,
            both(_chart(chart)),
            "a chart installs ClusterRoles, webhooks and CRDs with cluster-wide rights: only "
            "from its upstream publisher",
            name="trusted-controllers",
        )
        for key, chart in (
            ("gateway.install.chart", GATEWAY_CHART),
            ("rollouts.chart", _default_chart(RolloutsController, "chart")),
            ("monitoring.chart", _default_chart(MonitoringConfig, "chart")),
            ("monitoring.loki.chart", ("loki", "https://grafana.github.io/helm-charts")),
            ("monitoring.loki.collector.chart", ("alloy", "https://grafana.github.io/helm-charts")),
        )
    ),
)


def minimum_problems(stack: str, config: StackConfig) -> list[ConfigProblem]:
    """Every setting of `config` below a row of the Kubernetes and monitoring table."""
    own = stack if stack in FLOORS else "prod"
    suffix = "" if stack in FLOORS else " (a stack without a floor of its own gets prod's)"
    problems = []
    for row in (*KUBERNETES_TABLE, *_sizing_rows()):
        bound = row.stacks.get(own)
        if bound is None:
            continue
        if isinstance(bound, Derived):
            bound = bound.of(config)
        problems += [
            ConfigProblem(
                key,
                f"below the security floor of stack '{stack}'{suffix}: must be {bound.words}; "
                f"{row.reason}",
            )
            for key, value in values_at(config, row.key.split("."), "")
            if not bound.holds(value)
        ]
    return problems


def floor_of(stack: str) -> Floor:
    return FLOORS.get(stack, FLOORS["prod"])


def floor_problems(stack: str, config: StackConfig) -> list[ConfigProblem]:
    """Every setting of `config` below the floor of `stack`."""
    floor = floor_of(stack)
    own = "" if stack in FLOORS else " (a stack without a floor of its own gets prod's)"
    problems = [
        ConfigProblem(
            f"environments.{name}.tier",
            f"stack '{stack}' may declare only tier {' or '.join(sorted(floor.tiers))}{own}; "
            "a weaker tier would switch off the policies of its own",
        )
        for name, env in sorted(config.environments.items())
        if env.tier not in floor.tiers
    ]
    if config.github is not None:
        problems += [
            ConfigProblem(
                f"github.repositories.{repo}.{guard.setting}",
                f"below the security floor of stack '{stack}'{own}: must be {guard.floor}",
            )
            for repo, settings in sorted(config.github.settings.items())
            for guard in floor.guards
            if not guard.holds(settings)
        ]
    return problems + minimum_problems(stack, config)
