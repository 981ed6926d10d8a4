"""Checks decided by which files the repository holds: Security-Policy,
Dependency-Update-Tool, License, Binary-Artifacts, SAST, Packaging, Fuzzing.

A check is predicted only from managed files: a file the platform does not manage may or may
not exist in the repository, so its absence leaves the check unpredictable (0-10).
"""

from __future__ import annotations

import functools
import re

from scorecard.permissions import PACKAGING, any_job_matches
from scorecard.result import INCONCLUSIVE, MAX_SCORE, CheckResult
from scorecard.workflow import Workflow

# checks/raw/security_policy.go isSecurityPolicyFilename
SECURITY_POLICY_FILES = {
    f"{folder}security.{ext}"
    for folder, ext in [
        (d, e) for d in ("", ".github/", "docs/") for e in ("md", "markdown", "adoc", "rst")
    ]
} | {"doc/security.rst"}
# checks/raw/dependency_update_tool.go
UPDATE_TOOL_FILES = {
    ".github/dependabot.yml": "Dependabot",
    ".github/dependabot.yaml": "Dependabot",
    "renovate.json": "RenovateBot",
    "renovate.json5": "RenovateBot",
    ".github/renovate.json": "RenovateBot",
    ".github/renovate.json5": "RenovateBot",
    ".gitlab/renovate.json": "RenovateBot",
    ".gitlab/renovate.json5": "RenovateBot",
    ".renovaterc": "RenovateBot",
    ".renovaterc.json": "RenovateBot",
    ".renovaterc.json5": "RenovateBot",
    ".scala-steward.conf": "scala-steward",
    ".github/.scala-steward.conf": "scala-steward",
    ".config/.scala-steward.conf": "scala-steward",
}
# checks/raw/sast.go getSastUsesWorkflows (CodeQL scores on its own; the others are "other")
SAST_ACTIONS = [
    (re.compile(r"^github/codeql-action/analyze$"), "CodeQL"),
    (re.compile(r"^snyk/actions/.*"), "Snyk"),
    (re.compile(r"^facebook/pysa-action$"), "Pysa"),
    (re.compile(r"^JetBrains/qodana-action$"), "Qodana"),
    (re.compile(r"^hadolint/hadolint-action$"), "Hadolint"),
]

_URL = re.compile(r"(http|https)://[a-zA-Z0-9./?=_%:-]*")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+(@|\\?\[at\\?\])[A-Za-z0-9.-]+\.[A-Za-z]{2,6}\b", re.A)
# Go's `\b*` before the digits is an empty repeat; it matches nothing extra.
_HINT = re.compile(r"([0-9]{1,4}\b|(Disclos|Vuln))", re.I | re.A)


def policy_hits(text: str) -> tuple[list[str], list[str], list[str]]:
    """collectPolicyHits: URLs, e-mail addresses, and digits/disclosure/vulnerability hints."""
    urls: list[str] = []
    emails: list[str] = []
    hints: list[str] = []
    for line in text.splitlines():
        urls += [m.group(0) for m in _URL.finditer(line)]
        emails += [m.group(0) for m in _EMAIL.finditer(line)]
        hints += [m.group(0) for m in _HINT.finditer(line)]
    return urls, emails, hints


def security_policy(files: dict[str, str]) -> CheckResult:
    """checks/evaluation/security_policy.go SecurityPolicy over the probes' outcomes."""
    follows = "checks/evaluation/security_policy.go SecurityPolicy"
    name = "Security-Policy"
    path = next((p for p in sorted(files) if p.lower() in SECURITY_POLICY_FILES and files[p]), None)
    if path is None:
        return CheckResult(
            name,
            None,
            "no managed security policy; depends on the repository's own files",
            follows,
            to_raise=["set securityPolicy in config (managed SECURITY.md)"],
        )
    text = files[path]
    urls, emails, hints = policy_hits(text)
    unique_links = set(urls) | set(emails)
    linked_len = sum(len(x) for x in set(urls)) + sum(len(x) for x in set(emails))
    size = len(text.encode())
    score, details = 0, []
    if unique_links:
        score += 6
    else:
        details.append("no linked content found")
    if size > 1 and size > linked_len + len(unique_links) * 2:
        score += 3
    else:
        details.append("no text (besides links / emails) found in security policy")
    if len(hints) > 1:
        score += 1
    else:
        details.append("one or no hints of disclosure, vulnerability, and/or timelines")
    return CheckResult(name, score, f"security policy file detected: {path}", follows, details)


def dependency_update_tool(files: dict[str, str]) -> CheckResult:
    follows = "checks/evaluation/dependency_update_tool.go DependencyUpdateTool"
    name = "Dependency-Update-Tool"
    for path in sorted(files):
        if path in UPDATE_TOOL_FILES:
            return CheckResult(
                name,
                MAX_SCORE,
                f"update tool detected: {UPDATE_TOOL_FILES[path]} ({path})",
                follows,
            )
    return CheckResult(
        name,
        None,
        "no managed update-tool config; depends on the repository's own files",
        follows,
        to_raise=["declare dependabot ecosystems in config"],
    )


# The licence texts the platform manages, by lines only that text has (as GitHub's detection
# would name it; FSF/OSI approved in checks/raw/license.go's list).
KNOWN_LICENSES = {"Apache-2.0": ("Apache License", "Version 2.0, January 2004")}


def license_check(files: dict[str, str]) -> CheckResult:
    """checks/evaluation/license.go License: file 9, FSF/OSI-approved licence 1 more."""
    follows = "checks/evaluation/license.go License"
    name = "License"
    path = next(
        (p for p in sorted(files) if p.split(".")[0].upper() in ("LICENSE", "COPYING")), None
    )
    if path is None:
        return CheckResult(
            name,
            None,
            "no managed licence file; depends on the repository's own files",
            follows,
            to_raise=["set `license` (an SPDX id) in config to manage LICENSE"],
        )
    spdx = next(
        (k for k, lines in KNOWN_LICENSES.items() if all(x in files[path] for x in lines)), None
    )
    if spdx is None:
        return CheckResult(name, 9, f"license file detected: {path}", follows, low=9, high=10)
    return CheckResult(
        name,
        MAX_SCORE,
        f"license file detected: {path} ({spdx}, FSF/OSI approved)",
        follows,
        ["assumes GitHub's licence detection recognises the managed text (not verified here)"],
    )


# checks/raw/binary_artifact.go: a file is a binary when h2non/filetype names one of these types
# from its first bytes, or its extension is one and its first 1,024 bytes hold a control character.
BINARY_TYPES = {
    "crx", "deb", "dex", "dey", "elf", "o", "a", "so", "macho", "iso", "class", "jar", "bundle",
    "dylib", "lib", "msi", "dll", "drv", "efi", "exe", "ocx", "pyc", "pyo", "par", "rpm", "wasm",
    "whl",
}  # fmt: skip
# The magic bytes of those types that UTF-8 text (all a managed file can hold) can start with,
# with the least length filetype needs; deb is left out (filetype may call it `ar` first).
_MAGIC = [(b"\x7fELF", 53), (b"MZ", 2), (b"\x00asm\x01\x00\x00\x00", 8), (b"Cr24", 4)]
_HEAD = 1024


@functools.lru_cache(maxsize=1024)  # every repository has the same managed files: once each
def is_binary(path: str, text: str) -> bool:
    data = text.encode()[:_HEAD]
    if not data:
        return False
    if any(data.startswith(magic) and len(data) >= size for magic, size in _MAGIC):
        return True
    # isText reads runes up to 4 bytes before the end; a control character is a single byte.
    control = any(b < 0x20 and b not in b"\n\t\r" for b in data[: len(data) - 3])
    name = path.rsplit("/", 1)[-1]
    return control and "." in name and name.rsplit(".", 1)[1] in BINARY_TYPES


def binary_artifacts(files: dict[str, str]) -> CheckResult:
    """checks/evaluation/binary_artifacts.go BinaryArtifacts: 10 less one per binary. Other files
    of the repository may add binaries, so the managed ones give an upper bound only."""
    binary = sorted(p for p, text in files.items() if is_binary(p, text))
    follows = "checks/evaluation/binary_artifacts.go BinaryArtifacts"
    if binary:
        return CheckResult(
            "Binary-Artifacts",
            None,
            f"binaries among the managed files ({len(binary)}); other files may add more",
            follows,
            binary,
            to_raise=["commit no binary through managed files"],
            high=max(MAX_SCORE - len(binary), 0),
        )
    return CheckResult(
        "Binary-Artifacts",
        None,
        "no binary among the managed files; the rest of the repository decides",
        follows,
    )


def sast(workflows: list[Workflow]) -> CheckResult:
    """checks/evaluation/sast.go SAST: CodeQL configured scores 10 when no merged PR lacks a SAST
    check run, otherwise 3:7 with the share of PRs analysed (history: 7-10)."""
    follows = "checks/evaluation/sast.go SAST"
    tools = {
        tool
        for w in workflows
        for job in w.jobs
        for step in job.steps
        for pattern, tool in SAST_ACTIONS
        if step.uses and pattern.match(step.uses.split("@")[0])
    }
    if tools - {"CodeQL"}:
        return CheckResult("SAST", MAX_SCORE, "SAST tool detected", follows, sorted(tools))
    if "CodeQL" in tools:
        return CheckResult(
            "SAST",
            None,
            "SAST tool detected: CodeQL; the share of merged PRs it analysed decides",
            follows,
            low=7,
            high=MAX_SCORE,
            to_raise=["run CodeQL on every pull request (it does; history takes time to show)"],
        )
    return CheckResult(
        "SAST",
        None,
        "no managed SAST workflow; merged PRs' check runs decide",
        follows,
        to_raise=["enable the managed CodeQL workflow"],
    )


def packaging(workflows: list[Workflow]) -> CheckResult:
    """Packaging needs a successful run of a publishing workflow (GitHub API): not predictable."""
    follows = "checks/evaluation/packaging.go Packaging"
    found = [w.path for w in workflows if any_job_matches(w, PACKAGING)]
    if not found:
        return CheckResult(
            "Packaging",
            None,
            "no managed publishing workflow; other workflows may publish",
            follows,
            low=INCONCLUSIVE,
        )
    return CheckResult(
        "Packaging",
        None,
        "publishing workflow managed; scores 10 once a run succeeded",
        follows,
        found,
        low=INCONCLUSIVE,
    )


def fuzzing() -> CheckResult:
    return CheckResult(
        "Fuzzing",
        None,
        "decided by OSS-Fuzz/ClusterFuzzLite membership and fuzz targets in the code",
        "checks/evaluation/fuzzing.go Fuzzing",
    )
