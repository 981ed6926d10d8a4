"""The steps of deploying a stack under the real engine: the provider registered and never
downloaded, the pack stopping what it must, preview and up on an empty cluster, the live objects
against the offline synth, no changes after, drift through `infractl drift`, and destroy."""

from __future__ import annotations

import json
import os

import yaml

from e2e import engine, infractl, live, stacks
from e2e.errors import HarnessError
from e2e.programs import weakened_program
from e2e.report import errors
from e2e.scenario import StackRun, Step
from e2e.tools import ROOT


def no_plugin(s: StackRun) -> str:
    """Before the provider is registered a preview must fail on the missing plugin, having
    downloaded nothing: the registration is what the engine runs, never a download."""
    preview = s.cli("preview")
    text = preview.stdout + preview.stderr + " ".join(preview.diagnostics())
    s.report.step("preview-without-plugin", preview, plugins=s.pulumi.plugins())
    s.report.check(preview.returncode != 0, "a preview ran without the registered provider")
    s.report.check("kubernetes" in text and "plugin" in text, f"not a missing-plugin error: {text}")
    s.report.check(
        not s.pulumi.plugins(), f"plugins appeared without registration: {s.pulumi.plugins()}"
    )
    # What infractl drift and the preview workflow rely on: without PULUMI_DEBUG_COMMANDS the CLI
    # refuses `--event-log` (tests/test_drift.py fakes exactly this).
    gated = s.cli("preview", program=None, env={"PULUMI_DEBUG_COMMANDS": ""})
    s.report.check("unknown flag: --event-log" in gated.stderr, "--event-log is no longer gated")
    return f"exit {preview.returncode}"


def register_provider(s: StackRun) -> str:
    s.provider = s.pulumi.register_provider()
    s.report.steps["plugins"] = {"kubernetes": s.provider, "installed": s.pulumi.plugins()}
    return f"kubernetes {s.provider}"


def synth(s: StackRun) -> str:
    out = s.folder / "synth"
    done = infractl.run(
        "synth", "--stack", s.stack, "--config-file", str(s.settings_file), "--out", str(out),
        env=stacks.SECRET_ENV,
    )  # fmt: skip
    if done.returncode != 0:
        raise HarnessError(f"offline synth of {s.stack} failed: {done.stderr.strip()[-500:]}")
    s.synth = out
    return f"{len(live.manifests(out / 'kubernetes'))} objects"


def cluster_provides(s: StackRun) -> str:
    provided = live.provide(s.plane.kubeconfig, stacks.CLUSTER_PROVIDES[s.stack])
    s.report.steps["cluster-provides"] = {"objects": len(provided)}
    return f"{len(provided)} objects"


def placeholder_refused(s: StackRun) -> str:
    """The repository's own plugin digest (a placeholder) under the real engine: the preview
    fails naming the file and key. The e2e digest is set back after."""
    key = f"{stacks.NS}:rollouts.gatewayPluginImage"
    repository = yaml.safe_load((ROOT / f"Pulumi.{s.stack}.yaml").read_text())["config"]
    ours = s.config[f"{stacks.NS}:rollouts"]["gatewayPluginImage"]
    theirs = repository[f"{stacks.NS}:rollouts"]["gatewayPluginImage"]
    s.cli("config", "set", "--path", key, theirs, event_log=False)
    preview = s.cli("preview")
    s.cli("config", "set", "--path", key, ours, event_log=False)
    text = " ".join(preview.diagnostics())
    s.report.step("preview-placeholder-digest", preview)
    s.report.check(preview.returncode != 0, "the placeholder plugin digest was previewed")
    s.report.check(
        f"Pulumi.{s.stack}.yaml: {key}: the digest is a placeholder" in text,
        f"the placeholder's refusal names neither file nor key: {text[:300]}",
    )
    return f"exit {preview.returncode}"


def weakened(s: StackRun) -> str:
    """The pack under the engine stops a weakened stack: the update fails, nothing is created."""
    up = s.cli("up", "--yes", pack=True, program=weakened_program)
    violations = sorted({v.get("policyName", "") for v in up.policy_violations()})
    left = live.ours(s.plane.kubeconfig) + live.named(s.plane.kubeconfig, "weakened")
    s.report.step("weakened-up", up, violations=violations, created=left)
    s.report.check(up.returncode != 0, "the weakened stack was applied")
    s.report.check("k8s-pod-security-restricted" in violations, f"pack verdict: {violations}")
    s.report.check(not left, f"the refused update created {left}")
    return f"refused by {', '.join(violations) or 'nothing'}"


def preview(s: StackRun) -> str:
    result = s.cli("preview", pack=True)
    s.report.step("preview", result)
    s.report.check(result.returncode == 0, f"preview failed: {errors(result)}")
    return f"exit {result.returncode} {result.summary()}"


def preview_report(s: StackRun) -> str:
    log = s.report.event_log("preview")
    done = infractl.run(
        "preview-report", "--stack", s.stack, "--event-log", str(log), "--format", "json"
    )
    s.report.steps["preview-report"] = {"exit": done.returncode}
    s.report.check(done.returncode == 0, f"preview-report on the real event log: {done.stderr}")
    return f"exit {done.returncode}"


def up(s: StackRun) -> str:
    result = s.cli("up", "--yes", pack=True)
    s.report.step("up", result)
    s.report.check(result.returncode == 0, f"up failed: {errors(result)}")
    return f"exit {result.returncode} {result.summary()} in {result.seconds:.0f} s"


def live_matches_synth(s: StackRun) -> str:
    assert s.synth is not None, "the synth step runs first"
    mismatches = live.compare(s.plane.kubeconfig, s.synth / "kubernetes")
    s.report.steps["up"]["mismatches"] = mismatches
    s.report.check(not mismatches, f"{len(mismatches)} live objects differ from the synth")
    return f"{len(mismatches)} differ"


def secrets_in_state(s: StackRun) -> str:
    state = json.dumps(s.pulumi.stack_export())
    # What the run gave the program (the Slack URL is the run's receiver: e2e/run.py).
    given = {name: os.environ.get(name, value) for name, value in stacks.SECRET_ENV.items()}
    leaked = [name for name, value in given.items() if value in state]
    s.report.steps["secrets"] = {"plaintext-in-state": leaked}
    s.report.check(not leaked, f"secrets in plain text in state: {leaked}")
    return f"{len(leaked)} in plain text"


def no_changes(s: StackRun) -> str:
    s.expect_no_changes("preview-again", "the second preview shows changes")
    return f"exit {s.report.steps['preview-again']['exit']}"


def drift(s: StackRun) -> str:
    """Change live objects by hand, then rank the real refresh through `infractl drift`."""
    assert s.synth is not None, "the synth step runs first"
    made = live.drift(s.plane.kubeconfig, s.config)
    refresh = s.cli("refresh", "--preview-only")
    pending = s.cli("preview")
    done = infractl.run(
        "drift", "--stack", s.stack, "--input", str(refresh.event_log),
        "--pending-input", str(pending.event_log),
        "--resources", str(s.synth / "resources.json"),
    )  # fmt: skip
    s.report.step("refresh-preview-only", refresh, made=made)
    s.report.step("drift-preview", pending)
    s.report.steps["drift"] = {"exit": done.returncode, "report": done.stdout.strip().splitlines()}
    check = s.report.check
    check(refresh.returncode == 0, f"refresh --preview-only failed: {errors(refresh)}")
    check(done.returncode in (1, 4), f"infractl drift exit {done.returncode}: {done.stderr}")
    for change in made:
        if change["expected"]:
            check(change["name"] not in done.stdout, f"reported expected {change}")
        else:
            check(change["name"] in done.stdout, f"drift not reported: {change}")
    return f"infractl drift exit {done.returncode}"


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


def destroy(s: StackRun) -> str:
    down = s.cli("destroy", "--yes")
    refused = down.returncode != 0 and "protected" in down.stdout + down.stderr
    if refused:
        # Protected resources (prod's monitoring storage) stop a destroy, as documented;
        # the runbook's way past it is an explicit unprotect.
        s.cli("state", "unprotect", "--all", "--yes", event_log=False)
        down = s.cli("destroy", "--yes")
    crash = provider_panic(down)
    if crash:
        s.say(f"{s.stack}: the Kubernetes provider crashed in destroy: {' in '.join(crash[:2])}")
        s.report.steps["destroy-provider-panic"] = {"frames": crash}
        known = any(KNOWN_DELETE_PANIC in frame for frame in crash)
        if s.report.check(known, f"the Kubernetes provider crashed in destroy: {crash}"):
            # docs/runbooks/failed-up.md: the deletes were sent; the same command again.
            down = s.cli("destroy", "--yes")
    s.report.step("destroy", down, refused_while_protected=refused)
    left = live.ours(s.plane.kubeconfig)
    s.report.steps["destroy"]["left"] = left
    s.report.check(down.returncode == 0, f"destroy failed: {errors(down)}")
    s.report.check(not left, f"left after destroy: {left}")
    return f"exit {down.returncode}, {len(left)} objects of ours left"


NO_PLUGIN = Step(
    "preview-without-plugin",
    "`pulumi preview` before the provider is registered; once more without PULUMI_DEBUG_COMMANDS",
    "fails on the missing kubernetes plugin with nothing downloaded; `--event-log` is refused "
    "without the debug flag",
    no_plugin,
)
REGISTER_PROVIDER = Step(
    "register-provider",
    "`pulumi plugin install resource kubernetes <SDK version> --file .tools/bin/...`",
    "the built provider is installed under the version the Python SDK asks for",
    register_provider,
)
SYNTH = Step(
    "synth",
    "`infractl synth` of the same settings, offline",
    "exit 0 (its objects are what `live-matches-synth` looks for)",
    synth,
)
CLUSTER_PROVIDES = Step(
    "cluster-provides",
    "installs what the stack expects its cluster to have (staging: the Gateway API CRDs)",
    "the objects are created",
    cluster_provides,
)
PLACEHOLDER_DIGEST = Step(
    "placeholder-digest",
    "`pulumi preview` with the repository's placeholder Gateway API plugin digest",
    "refused, naming the stack file and the key",
    placeholder_refused,
    needs=("register-provider",),
)
WEAKENED = Step(
    "weakened",
    "`pulumi up` of the program plus a privileged pod in a namespace without Pod Security",
    "the update fails, the pack names k8s-pod-security-restricted, nothing is created",
    weakened,
    needs=("register-provider",),
)
PREVIEW = Step(
    "preview",
    "`pulumi preview` with the policy pack on the empty cluster",
    "exit 0",
    preview,
    needs=("register-provider",),
)
PREVIEW_REPORT = Step(
    "preview-report",
    "`infractl preview-report` on the preview's real event log",
    "exit 0",
    preview_report,
    needs=("preview",),
)
UP = Step(
    "up",
    "`pulumi up --yes` with the policy pack on the empty cluster",
    "exit 0",
    up,
    needs=("register-provider",),
)
LIVE_MATCHES_SYNTH = Step(
    "live-matches-synth",
    "reads every object of the offline synth from the API server",
    "each exists with its kind, name, namespace, labels and spec (server defaults may add "
    "fields, never change ours)",
    live_matches_synth,
    needs=("synth", "up"),
)
SECRETS_IN_STATE = Step(
    "secrets-in-state",
    "`pulumi stack export`",
    "no secret of the stack in plain text in the state",
    secrets_in_state,
    needs=("up",),
)
NO_CHANGES = Step(
    "preview-again",
    "`pulumi preview --expect-no-changes` with the pack",
    "no changes: Pulumi and the cluster agree",
    no_changes,
    needs=("up",),
)
DRIFT = Step(
    "drift",
    "changes live objects by hand (a Pod Security label, a NetworkPolicy deleted, replicas, "
    "canary weights), then `pulumi refresh --preview-only` and `pulumi preview` through "
    "`infractl drift`",
    "the label and the deletion are reported; the controller's weights and autoscaled "
    "replicas are not",
    drift,
    needs=("synth", "up"),
)
DESTROY = Step(
    "destroy",
    "`pulumi destroy --yes` (unprotecting when protected resources refuse it; again after the "
    "known provider panic, as the runbook says)",
    "exit 0; nothing with the project's labels left",
    destroy,
)
