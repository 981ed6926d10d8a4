"""The programs the e2e run serves to the CLI, each by name (`e2e.programs:<name>`), so that
e2e/program_host.py can import it in a process of its own."""

from __future__ import annotations

from e2e import stacks


def program() -> None:
    from infra.program import main

    main()


def weakened_program() -> None:
    """A test-only program change no stack config can make (the floor refuses it first): the
    real program plus a privileged pod in a namespace without Pod Security labels."""
    import pulumi
    import pulumi_kubernetes as k8s

    from infra.program import main

    main()
    provider = k8s.Provider("weakened-cluster", context="e2e")
    opts = pulumi.ResourceOptions(provider=provider)
    namespace = k8s.core.v1.Namespace("weakened", metadata={"name": "weakened"}, opts=opts)
    k8s.core.v1.Pod(
        "privileged",
        metadata={"name": "privileged", "namespace": namespace.metadata.name},
        spec={
            "containers": [
                {
                    "name": "c",
                    "image": f"busybox@{stacks.E2E_DIGEST}",
                    "securityContext": {"privileged": True},
                }
            ]
        },
        opts=opts,
    )


# The service whose canary runs on the controller, and what the e2e run takes out of it.
REPLICA_CANARY = "inference"


def replica_canary_program() -> None:
    """A test-only edit of the real program: prod's `inference` canary without its traffic
    router. The Gateway API plugin's Go module is not served here, so the controller cannot
    load it; without `trafficRouting` Argo Rollouts weights a canary by its replicas, and the
    header route (a traffic-router step) goes too. Everything else is the real program."""
    import pulumi

    from infra.program import main

    def edit(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        spec = args.props.get("spec") if args.type_.endswith(":Rollout") else None
        meta = args.props.get("metadata")
        if not isinstance(spec, dict) or not isinstance(meta, dict):
            return None
        if meta.get("name") != REPLICA_CANARY:
            return None
        canary = dict(spec["strategy"]["canary"])
        canary.pop("trafficRouting")
        canary["steps"] = [s for s in canary["steps"] if "setHeaderRoute" not in s]
        props = {**args.props, "spec": {**spec, "strategy": {"canary": canary}}}
        return pulumi.ResourceTransformationResult(props, args.opts)

    pulumi.runtime.register_stack_transformation(edit)
    main()
