"""What `make e2e` runs, in order: one list of steps per stack, then the faults. Adding a scenario
is adding a Step (e2e/scenario.py) to a list here; docs/internals/e2e.md says how, and
`python -m e2e.run --list` prints every list with what each step does and checks."""

from __future__ import annotations

from e2e import blue_green, budget_gate, canary, changes, deploy, faults, waivers
from e2e.scenario import Scenario

# Up to the update, the same for every stack.
BEFORE = (
    deploy.NO_PLUGIN,
    deploy.REGISTER_PROVIDER,
    deploy.SYNTH,
    deploy.CLUSTER_PROVIDES,
    deploy.PLACEHOLDER_DIGEST,
    deploy.WEAKENED,
    deploy.PREVIEW,
    deploy.PREVIEW_REPORT,
    deploy.UP,
    deploy.LIVE_MATCHES_SYNTH,
    deploy.SECRETS_IN_STATE,
    deploy.NO_CHANGES,
)

STAGING = Scenario(
    "staging",
    "staging",
    (*BEFORE, deploy.DRIFT, waivers.STEP, deploy.DESTROY),
    about="one control plane and stack, the steps in order",
)
PROD = Scenario(
    "prod",
    "prod",
    (
        *BEFORE,
        changes.STEP,
        blue_green.STEP,
        budget_gate.STEP,
        deploy.DRIFT,
        canary.STEP,
        deploy.DESTROY,
    ),
    about="one control plane and stack, the steps in order",
)
FAULTS = Scenario(
    "faults",
    "staging",
    faults.STEPS,
    isolated=True,
    prepare=(deploy.REGISTER_PROVIDER, deploy.CLUSTER_PROVIDES),
    about="each step on a control plane and stack of its own, after register-provider and "
    "cluster-provides",
)

SCENARIOS = (STAGING, PROD, FAULTS)
