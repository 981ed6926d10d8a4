"""codeql.yml: static analysis (SAST) of the repository's languages, on PRs, main and weekly."""

from __future__ import annotations

from typing import Any

from infra.github.workflows.common import Workflow

# How CodeQL builds a compiled language without project-specific steps (docs.github.com, "CodeQL
# build options and steps for compiled languages"): `none` where the pinned action can extract
# without a build (C#, Java/Kotlin), `autobuild` for the others. Interpreted languages have only
# `none`, the action's default, so the input is left out for them.
BUILD_MODES = {
    "c-cpp": "autobuild",
    "csharp": "none",
    "go": "autobuild",
    "java-kotlin": "none",
    "swift": "autobuild",
}
JOB_NAME = "CodeQL Analyze"


def build(w: Workflow) -> None:
    branch = w.settings.default_branch
    languages = w.settings.workflows.codeql_languages
    job: dict[str, Any] = {
        "name": JOB_NAME,
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 60,
        "permissions": {
            "actions": "read",
            "contents": "read",
            "security-events": "write",
        },
    }
    if len(languages) == 1:
        (language,) = languages
        mode = BUILD_MODES.get(language)
        init = {"languages": language, **({"build-mode": mode} if mode else {})}
    else:
        # One job per language: autobuild builds only the language its job names; `none` is
        # an interpreted language's only mode.
        job["name"] = f"{JOB_NAME} (${{{{ matrix.language }}}})"
        modes = [{"language": x, "build-mode": BUILD_MODES.get(x, "none")} for x in languages]
        job["strategy"] = {"fail-fast": False, "matrix": {"include": modes}}
        init = {"languages": "${{ matrix.language }}", "build-mode": "${{ matrix.build-mode }}"}
    job["steps"] = [
        w.checkout(),
        {"name": "Initialize CodeQL", "uses": w.uses("github/codeql-action/init"), "with": init},
        {"name": "Perform CodeQL analysis", "uses": w.uses("github/codeql-action/analyze")},
    ]
    w.document = {
        **w.top(
            "CodeQL",
            {
                "push": {"branches": [branch]},
                "pull_request": {"branches": [branch]},
                "schedule": [{"cron": "0 0 * * 1"}],
            },
        ),
        "jobs": {"analyze": job},
    }
