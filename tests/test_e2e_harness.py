"""The e2e harness without Go: its pins agree with the Python SDKs, its stack edits are exactly the
stated ones, its bad-input paths give one line and exit 2, and the pack launcher the engine runs
starts the real pack."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import live, stacks, tools
from e2e.background import repeating
from e2e.errors import HarnessError
from tests.conftest import REPO, load_stack


def _go_mod(module: str) -> str:
    return (REPO / "tools" / "e2e" / module / "go.mod").read_text()


def test_provider_pin_is_the_python_sdk_version() -> None:
    # The engine asks for the plugin version the SDK registers with; the binary must be that one.
    assert importlib.metadata.version("pulumi-kubernetes") == tools.KUBERNETES_PROVIDER_VERSION
    assert re.search(
        r"github.com/pulumi/pulumi-kubernetes/provider/v4 v4\.0\.0-\d{14}-f47bc2d6f199",
        _go_mod("kubernetes-provider"),
    ), "the provider pseudo-version is the commit of tag v4.25.0"


def test_cli_pin_is_served_and_not_older_than_the_sdk() -> None:
    go_mod = _go_mod("pulumi")
    assert f"github.com/pulumi/pulumi/pkg/v3 v{tools.PULUMI_VERSION}" in go_mod
    assert f"github.com/pulumi/pulumi/sdk/v3 v{tools.PULUMI_VERSION}" in go_mod
    sdk = tuple(int(p) for p in importlib.metadata.version("pulumi").split("."))
    cli = tuple(int(p) for p in tools.PULUMI_VERSION.split("."))
    assert cli >= sdk


def test_kubernetes_staging_modules_follow_the_server_version() -> None:
    go_mod = _go_mod("kube")
    assert f"k8s.io/kubernetes {tools.KUBE_VERSION}" in go_mod
    staging = re.findall(r"^\s*(k8s\.io/[a-z-]+) => k8s\.io/[a-z-]+ (v\S+)$", go_mod, re.M)
    assert len(staging) > 25
    minor = tools.KUBE_VERSION.replace("v1.", "v0.")
    assert {version for _, version in staging} == {minor}


def edited_image(edited: dict[str, Any], service: str) -> str:
    return str(edited[f"{stacks.NS}:services"][service]["strategy"]["image"])


def test_e2e_settings_differ_from_the_stack_only_by_the_stated_edits() -> None:
    for stack in ("staging", "prod"):
        original = load_stack(stack)["config"]
        edited = stacks.settings(stack)["config"]
        assert f"{stacks.NS}:github" in original and f"{stacks.NS}:github" not in edited
        assert "build" not in edited[f"{stacks.NS}:app"]
        images = [s["strategy"]["image"] for s in edited[f"{stacks.NS}:services"].values()]
        assert "build" not in images and all(i.startswith("sha256:") for i in images)
        # Services: the image, and the release timings the scenarios shorten, nothing else.
        for name, service in original[f"{stacks.NS}:services"].items():
            strategy = dict(service["strategy"], image=edited_image(edited, name))
            if "analysis" in strategy:
                strategy["analysis"] = strategy["analysis"] | stacks.E2E_ANALYSIS
            if strategy["type"] == "blueGreen":
                strategy["scaleDownDelay"] = f"{stacks.E2E_SCALE_DOWN_DELAY}s"
            if "steps" in strategy:
                strategy["steps"] = [
                    dict(step, pause=stacks.E2E_CANARY_PAUSE) if step.get("pause") else step
                    for step in strategy["steps"]
                ]
            assert edited[f"{stacks.NS}:services"][name] == dict(service, strategy=strategy)
        plugin = edited[f"{stacks.NS}:rollouts"]["gatewayPluginImage"]
        assert plugin.endswith("@" + stacks.E2E_DIGEST)
        # Everything else is the repository's, untouched.
        for key in set(original) - {
            f"{stacks.NS}:github",
            f"{stacks.NS}:app",
            f"{stacks.NS}:services",
            f"{stacks.NS}:rollouts",
        }:
            assert edited[key] == original[key], key
        rollouts = dict(original[f"{stacks.NS}:rollouts"], gatewayPluginImage=plugin)
        assert edited[f"{stacks.NS}:rollouts"] == rollouts
    assert len(stacks.EDITS) == 4


def test_rollouts_controller_is_the_charts_version_with_upstreams_replaces() -> None:
    go_mod = _go_mod("argo-rollouts")
    assert f"github.com/argoproj/argo-rollouts {tools.ARGO_ROLLOUTS_VERSION}" in go_mod
    chart = (REPO / "vendor" / "helm-charts" / "SOURCES.md").read_text()
    assert "argo-rollouts-2.41.0" in chart
    # Upstream requires the k8s staging modules at v0.0.0; only its replace block resolves them.
    staging = re.findall(r"^\s*k8s\.io/([a-z-]+) => k8s\.io/[a-z-]+ (v\S+)$", go_mod, re.M)
    assert {"api", "client-go", "apimachinery"} <= {name for name, _ in staging}


def _fake_go(folder: Path, body: str) -> dict[str, str]:
    script = folder / "go"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:/usr/bin:/bin"}


def _tools(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "e2e.tools", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_go_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _tools({**os.environ, "PATH": str(tmp_path)}, "kwok")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Go is not on PATH" in done.stderr and "make e2e" in done.stderr


def test_an_unknown_tool_name_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    # A typo used to print "every tool is built and current" and exit 0.
    done = _tools({**os.environ, "PATH": str(tmp_path)}, "kwok", "rolouts-controller")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("e2e: no such tool: rolouts-controller (known: pulumi, ")


def test_build_failure_names_the_module_and_its_last_lines(tmp_path: Path) -> None:
    env = _fake_go(
        tmp_path,
        'case "$1" in version) echo "go version go1.26.99 linux/amd64";;\n'
        '*) echo "first line" >&2; echo "cannot find module providing package x" >&2; exit 1;;\n'
        "esac\n",
    )
    # A stamp that cannot match forces the build even where the real binary exists.
    done = _tools(env, "etcd")
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    assert "building etcd from tools/e2e/etcd (go.etcd.io/etcd/server/v3) failed" in line
    assert "cannot find module providing package x" in line
    assert "Traceback" not in done.stderr


def test_a_stale_binary_is_rebuilt_and_a_current_one_is_not(tmp_path: Path) -> None:
    tool = next(t for t in tools.TOOL_TABLE if t.name == "etcd")
    version = "go version go1.26.8 linux/amd64"
    stamp = tools.stamp(tool, version)
    assert stamp == tools.stamp(tool, version)
    assert stamp != tools.stamp(tool, "go version go1.27.0 linux/amd64")
    other = next(t for t in tools.TOOL_TABLE if t.name == "kwok")
    assert stamp != tools.stamp(other, version)


def test_subset_diff_sees_changed_and_missing_fields_not_server_defaults() -> None:
    declared = {"replicas": 2, "template": {"spec": {"containers": [{"name": "a", "cpu": "1"}]}}}
    defaulted = {
        "replicas": 2,
        "revisionHistoryLimit": 10,
        "template": {"spec": {"containers": [{"name": "a", "cpu": "1", "pull": "IfNotPresent"}]}},
    }
    assert live.subset_diff(declared, defaulted) == []
    changed = {**defaulted, "replicas": 1}
    assert live.subset_diff(declared, changed) == [".replicas: declared 2, live 1"]
    assert live.subset_diff({"a": 1}, {}) == [".a: declared 1, absent live"]
    assert live.subset_diff({"l": [1, 2]}, {"l": [1]}) == [".l: declared 2 items, live 1"]


def test_pack_launcher_starts_the_real_pack(tmp_path: Path) -> None:
    """What the engine runs for `--policy-pack policies/serve`: it must print the pack's port."""
    proc = subprocess.Popen(
        [str(REPO / "policies" / "serve"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PULUMI_POLICY_PYTHON": sys.executable},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        assert line.isdigit() and int(line) > 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        proc.kill()
        proc.wait()
    pack = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["name"] == "python"


@pytest.mark.parametrize("name", [t.name for t in tools.TOOL_TABLE])
def test_every_tool_has_a_pinned_module(name: str) -> None:
    tool = next(t for t in tools.TOOL_TABLE if t.name == name)
    folder = REPO / "tools" / "e2e" / tool.module
    assert (folder / "go.mod").is_file() and (folder / "go.sum").is_file()


def test_actionlint_reports_the_version_its_module_pins() -> None:
    assert f"github.com/rhysd/actionlint {tools.ACTIONLINT_VERSION}" in _go_mod("actionlint")


def _crashed(frame: str) -> Any:
    from e2e.engine import Result

    dump = (
        "error: Detected that /tmp/x/plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes"
        " exited prematurely.\n       This is *always* a bug in the provider.\n       To assist "
        "with debugging we have dumped the STDOUT and STDERR streams of the plugin:"
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x2b5e1c9]\n\n"
        "goroutine 4242 [running]:\n"
        f"{frame}(0xc0012a4000)\n"
        "\t/root/go/pkg/mod/github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0/pkg/await/"
        "condition/deleted.go:136 +0x49\n"
        "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/await/internal.(*Awaiter).Await(...)\n"
    )
    return Result(["pulumi", "destroy"], 255, "", dump, 1.0, None)


def test_a_backend_with_other_than_one_checkpoint_is_a_harness_error(tmp_path: Path) -> None:
    """The torn-checkpoint fault cuts the one stack's state file; with two (or none) it must
    say so in one line rather than cut a guess or raise a traceback."""
    from e2e import engine, faults

    pulumi = engine.Engine.__new__(engine.Engine)
    pulumi.folder = tmp_path
    project = tmp_path / "state" / ".pulumi" / "stacks" / "tbcoin-platform"
    project.mkdir(parents=True)
    with pytest.raises(HarnessError, match="found 0"):
        faults._checkpoint(pulumi)
    (project / "staging.json").write_text("{}")
    assert faults._checkpoint(pulumi) == project / "staging.json"
    (project / "prod.json").write_text("{}")
    with pytest.raises(HarnessError, match="found 2"):
        faults._checkpoint(pulumi)


def test_a_provider_panic_is_read_from_its_dump() -> None:
    from e2e.deploy import KNOWN_DELETE_PANIC, provider_panic

    deleted = (
        "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/await/condition.(*Deleted).Satisfied"
    )
    frames = provider_panic(_crashed(deleted))
    assert frames[0] == "panic: runtime error: invalid memory address or nil pointer dereference"
    assert KNOWN_DELETE_PANIC in frames[1]  # the crashing function, first
    assert not any(f.startswith(("/", "goroutine", "[signal")) for f in frames)
    # Another crash is not the known one: make e2e fails on it instead of destroying again.
    other = provider_panic(
        _crashed(
            "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider.(*kubeProvider).Delete"
        )
    )
    assert other and not any(KNOWN_DELETE_PANIC in f for f in other)
    from e2e.engine import Result

    assert provider_panic(Result(["pulumi"], 255, "", "error: update failed", 1.0, None)) == []


def test_the_known_delete_panic_is_still_in_the_provider_source() -> None:
    """The destroy retry in e2e/deploy.py stands on this line of the pinned provider; once a
    provider without it is pinned, the retry is to go."""
    try:
        cache = subprocess.run(
            ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no Go: the provider's module source is not on this machine")
    version = re.search(r"pulumi-kubernetes/provider/v4 (v\S+)", _go_mod("kubernetes-provider"))
    assert version is not None
    source = (
        Path(cache)
        / f"github.com/pulumi/pulumi-kubernetes/provider/v4@{version.group(1)}"
        / "pkg/await/condition/deleted.go"
    )
    if not source.is_file():
        pytest.skip(f"{source} not downloaded (make e2e-tools fetches it)")
    text = source.read_text()
    satisfied = text[text.index("func (dc *Deleted) Satisfied") :]
    assert "r, _ := status.Compute(uns)\n\tif r.Message" in satisfied


def test_the_service_network_routes_only_the_prometheus_service() -> None:
    """make e2e's stand-in for the cluster's Service network: the controller's analysis queries
    for the one Service are forwarded to the real Prometheus, verbatim (GET and POST, as the
    Prometheus client sends them); any other host is refused and recorded, which fails the run."""
    import urllib.error
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from e2e.prometheus import ServiceNetwork

    class Target(BaseHTTPRequestHandler):
        def _answer(self, body: bytes) -> None:
            answer = f"{self.command} {self.path} {body.decode()}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:
            self._answer(self.rfile.read(int(self.headers["Content-Length"])))

        def log_message(self, *_: Any) -> None:
            pass

    target = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    Thread(target=target.serve_forever, daemon=True).start()
    host = "kube-prometheus-stack-prometheus.monitoring.svc:9090"
    network = ServiceNetwork(host, f"http://127.0.0.1:{target.server_address[1]}")
    try:
        with network.serving():
            proxy = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{network.port}"})
            opener = urllib.request.build_opener(proxy)
            got = opener.open(f"http://{host}/api/v1/query?query=up", timeout=10).read()
            assert got == b"GET /api/v1/query?query=up "
            posted = opener.open(f"http://{host}/api/v1/query", data=b"query=up", timeout=10)
            assert posted.read() == b"POST /api/v1/query query=up"
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open("http://prometheus.elsewhere.svc:9090/api/v1/query", timeout=10)
            assert refused.value.code == 502
    finally:
        target.shutdown()
        target.server_close()
    assert network.forwarded == 2
    assert network.refused == ["prometheus.elsewhere.svc:9090"]


def test_a_repeated_step_runs_until_the_block_ends_and_not_after() -> None:
    """The harness's background steps (traffic, the canary's scrape targets) stop with their
    block: a step still running after it would feed series into the next scenario."""
    import threading

    ran = threading.Semaphore(0)
    count = [0]

    def step() -> None:
        count[0] += 1
        ran.release()

    with repeating(step, 0.01):
        assert ran.acquire(timeout=10) and ran.acquire(timeout=10)  # it repeats
    stopped = count[0]
    threading.Event().wait(0.1)
    assert count[0] == stopped
