"""Build the e2e binaries from the Go tools modules under tools/e2e/ into .tools/bin/.

Nothing is downloaded but Go modules: each binary is `go build` of a package pinned by that
folder's go.mod/go.sum. A binary is rebuilt only when its stamp (the module's go.mod and go.sum,
the package, the flags, the Go version) changed, so a warm run costs a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e.errors import HarnessError

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "tools" / "e2e"
TOOLS = ROOT / ".tools"
BIN = TOOLS / "bin"

# The Kubernetes line whose schemas the project validates against; the same patch everywhere.
KUBE_VERSION = "v1.34.4"
# The Python SDK pins (pyproject.toml) the engine must serve; the test suite checks they agree.
PULUMI_VERSION = "3.274.0"
KUBERNETES_PROVIDER_VERSION = "4.25.0"
ACTIONLINT_VERSION = "v1.7.12"
# The controller image vendor/charts/argo-rollouts-2.41.0 installs (its appVersion).
ARGO_ROLLOUTS_VERSION = "v1.9.0"


# Written by _prepare from the pinned module (git-ignored), so not part of a stamp.
GENERATED = frozenset({"schema-embed.json", "terraform-mapping-embed.json"})


def _kube_ldflags() -> str:
    # Without these the servers report v0.0.0 and Helm's kubeVersion checks refuse every chart.
    base = "k8s.io/component-base/version"
    major, minor, _ = KUBE_VERSION.lstrip("v").split(".")
    return " ".join(
        [
            f"-X {base}.gitVersion={KUBE_VERSION}",
            f"-X {base}.gitMajor={major}",
            f"-X {base}.gitMinor={minor}",
            "-X k8s.io/client-go/pkg/version.gitVersion=" + KUBE_VERSION,
        ]
    )


@dataclass(frozen=True)
class Tool:
    name: str
    module: str  # folder under tools/e2e/
    package: str
    ldflags: str = ""
    env: dict[str, str] = field(default_factory=dict)
    tags: str = ""


TOOL_TABLE: tuple[Tool, ...] = (
    Tool(
        "pulumi",
        "pulumi",
        "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        # The release build's flags: a static binary without the gRPC trace server.
        ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v" + PULUMI_VERSION,
        env={"CGO_ENABLED": "0"},
        tags="osusergo,grpcnotrace",
    ),
    Tool(
        "pulumi-resource-kubernetes",
        "kubernetes-provider",
        ".",
        ldflags="-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version="
        + KUBERNETES_PROVIDER_VERSION,
    ),
    Tool("etcd", "etcd", "go.etcd.io/etcd/server/v3"),
    Tool("kube-apiserver", "kube", "k8s.io/kubernetes/cmd/kube-apiserver", _kube_ldflags()),
    Tool(
        "kube-controller-manager",
        "kube",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        _kube_ldflags(),
    ),
    Tool("kube-scheduler", "kube", "k8s.io/kubernetes/cmd/kube-scheduler", _kube_ldflags()),
    Tool("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok"),
    # The version `infractl scorecard` predicts (scorecard/source.py).
    Tool("scorecard", "scorecard", "github.com/ossf/scorecard/v5"),
    Tool(
        "actionlint",
        "actionlint",
        "github.com/rhysd/actionlint/cmd/actionlint",
        ldflags="-X github.com/rhysd/actionlint.version=" + ACTIONLINT_VERSION,
    ),
    # The third-party checkers `make test` holds the manifests and rendered charts against
    # (tests/test_workload_checkers.py): small, so they are in the Makefile's tool step.
    Tool("kube-score", "kube-score", "github.com/zegl/kube-score/cmd/kube-score"),
    Tool("kubeconform", "kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform"),
    # The release-notification gate's condition, evaluated by the expression library of the
    # controller's notification engine (tests/test_rollouts_controller.py).
    Tool("notification-expr", "notification-expr", "."),
    Tool(
        "rollouts-controller",
        "argo-rollouts",
        "github.com/argoproj/argo-rollouts/cmd/rollouts-controller",
        # Upstream's Makefile flag: without it the controller reports version 99.99.99.
        ldflags="-X github.com/argoproj/argo-rollouts/utils/version.version="
        + ARGO_ROLLOUTS_VERSION,
        env={"CGO_ENABLED": "0"},
    ),
)


def go_binary() -> str:
    go = shutil.which("go")
    if go is None:
        raise HarnessError(
            "Go is not on PATH: the e2e tools are built from Go modules; install Go 1.26 "
            "(`go version`) and run `make e2e` again"
        )
    return go


def _go_env(go: str) -> dict[str, str]:
    env = dict(os.environ)
    # The Go on PATH builds; a toolchain line in a go.mod must not fetch another one.
    env["GOTOOLCHAIN"] = "local"
    env["GOWORK"] = "off"
    return env


def _go_version(go: str) -> str:
    return subprocess.run(
        [go, "version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def stamp(tool: Tool, go_version: str) -> str:
    folder = MODULES / tool.module
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in GENERATED):
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    digest.update(
        json.dumps([tool.package, tool.ldflags, tool.tags, tool.env, go_version]).encode()
    )
    return digest.hexdigest()


def _stamp_file(tool: Tool) -> Path:
    return BIN / f".{tool.name}.stamp"


def is_current(tool: Tool, go_version: str) -> bool:
    path = _stamp_file(tool)
    return (
        (BIN / tool.name).is_file()
        and path.is_file()
        and path.read_text() == stamp(tool, go_version)
    )


def _prepare(tool: Tool, go: str, env: dict[str, str]) -> None:
    if tool.module != "kubernetes-provider":
        return
    # Upstream's main embeds a versioned copy of the committed schema (its generate.go does the
    # same); the copy is written next to our wrapper from the pinned module, never committed.
    folder = MODULES / tool.module
    module_dir = _module_dir(go, env, folder, "github.com/pulumi/pulumi-kubernetes/provider/v4")
    source = module_dir / "cmd" / "pulumi-resource-kubernetes"
    schema = json.loads((source / "schema.json").read_text())
    schema["version"] = KUBERNETES_PROVIDER_VERSION
    (folder / "schema-embed.json").write_text(json.dumps(schema))
    mapping = json.loads((source / "terraform-mapping.json").read_text())
    (folder / "terraform-mapping-embed.json").write_text(json.dumps(mapping))


# KWOK's own stage definitions (what kwokctl installs as "fast"): nodes Ready at once and kept
# alive, pods Ready at once, finished pods completed, deleted pods removed.
KWOK_STAGE_FILES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat/node-heartbeat.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
    # Volumes: claims of the class below are provisioned and bound at once.
    "kustomize/stage/volume/fast/pvc-provision.yaml",
    "kustomize/stage/volume/fast/pv-bind.yaml",
    "kustomize/stage/volume/fast/pv-delete.yaml",
    "kustomize/stage/volume/fast/pvc-delete.yaml",
)
# The cluster's default StorageClass, the one those stages serve.
KWOK_STORAGE_CLASS = "kustomize/stage/volume/fast/storage-class.yaml"


def _write_kwok_stages(go: str, env: dict[str, str]) -> None:
    module_dir = _module_dir(go, env, MODULES / "kwok", "sigs.k8s.io/kwok")
    docs = [(module_dir / name).read_text().strip() for name in KWOK_STAGE_FILES]
    (TOOLS / "kwok-stages.yaml").write_text("\n---\n".join(docs) + "\n")
    shutil.copy(module_dir / KWOK_STORAGE_CLASS, TOOLS / "kwok-storage-class.yaml")


def _module_dir(go: str, env: dict[str, str], folder: Path, module: str) -> Path:
    done = subprocess.run(
        [go, "mod", "download", "-json", module],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise HarnessError(f"go mod download {module} failed: {_tail(done.stderr)}")
    return Path(json.loads(done.stdout)["Dir"])


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def build(tool: Tool, go: str, go_version: str) -> float:
    env = _go_env(go) | tool.env
    folder = MODULES / tool.module
    _prepare(tool, go, env)
    BIN.mkdir(parents=True, exist_ok=True)
    command = [go, "build", "-o", str(BIN / tool.name)]
    if tool.tags:
        command += ["-tags", tool.tags]
    command += ["-ldflags", ("-s -w " + tool.ldflags).strip(), tool.package]
    started = time.monotonic()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise HarnessError(
            f"building {tool.name} from tools/e2e/{tool.module} ({tool.package}) failed: "
            f"{_tail(done.stderr)}"
        )
    _stamp_file(tool).write_text(stamp(tool, go_version))
    return time.monotonic() - started


def ensure(names: set[str] | None = None) -> dict[str, float]:
    """Build what is missing or stale; returns the seconds spent per binary built."""
    unknown = sorted((names or set()) - {tool.name for tool in TOOL_TABLE})
    if unknown:
        known = ", ".join(tool.name for tool in TOOL_TABLE)
        raise HarnessError(f"no such tool: {', '.join(unknown)} (known: {known})")
    go = go_binary()
    version = _go_version(go)
    spent: dict[str, float] = {}
    for tool in TOOL_TABLE:
        if names is not None and tool.name not in names:
            continue
        if is_current(tool, version):
            continue
        print(f"e2e: building {tool.name} ({tool.package}) ...", file=sys.stderr, flush=True)
        spent[tool.name] = build(tool, go, version)
        print(f"e2e: built {tool.name} in {spent[tool.name]:.0f} s", file=sys.stderr, flush=True)
    if names is None or "kwok" in names:
        # Cheap, so always written: the stage list lives in this file, not in a stamp.
        _write_kwok_stages(go, _go_env(go))
    return spent


def main(argv: list[str]) -> int:
    try:
        spent = ensure(set(argv) or None)
    except HarnessError as exc:
        print(f"e2e: {exc}", file=sys.stderr)
        return 2
    if not spent:
        print("e2e: every tool is built and current", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
