"""Serve one program to one CLI run from a fresh interpreter, as `pulumi-language-python` would
(a process per run): `python -m e2e.program_host e2e.programs:program` prints its port.

The Python SDK keeps its engine connection in process-wide state; a run killed mid-update left
its program still registering resources in the harness's own process, and the next run failed
("Resource monitor has terminated"). A process per run cannot leak into the next.
"""

from __future__ import annotations

import importlib
import sys
from concurrent import futures


def main(spec: str) -> None:
    import grpc
    from pulumi.automation._server import LanguageServer
    from pulumi.runtime.proto import language_pb2_grpc

    module, name = spec.split(":")
    program = getattr(importlib.import_module(module), name)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # Nothing else may go to the pipe the harness read the port from (it is not read again).
    sys.stdout = sys.stderr
    server.wait_for_termination()


if __name__ == "__main__":
    main(sys.argv[1])
