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
