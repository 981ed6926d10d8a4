"""The floor: the bare Pulumi SDK registering the same resources, with the same inputs, under its
own mocks and default monitor, with no project code (no config, no builders, no capture).

`python -m bench.floor resources.json` replays a synth's resources.json as plain
`CustomResource`s (same type tokens, names and input payloads) and prints the wall seconds.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockResourceArgs, Mocks, test


class EchoMocks(Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


def replay(resources: list[dict[str, Any]]) -> float:
    pulumi.runtime.set_mocks(EchoMocks(), project="bench", stack="floor", preview=False)

    def program() -> None:
        for r in resources:
            if r["custom"]:
                pulumi.CustomResource(r["type"], f"{r['name']}-{id(r)}", r["inputs"])

    started = time.perf_counter()
    test(program)()
    return time.perf_counter() - started


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print(f"{replay(json.load(handle)):.3f}")
