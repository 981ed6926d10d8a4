"""`infractl adopt`: bring repositories that already exist on GitHub under a stack, read-only.

For each repository it reads what is live (infractl/ops/github_live.py) and writes, atomically into
`--out` (nothing at all on any failure):
- `config.yaml`: the repository's layer for `tbcoin-platform:github.repositories`, minimal: a
  value equal to what the stack's defaults and the repository's groups give is left out. It says
  what is live, with `existing:` naming what the first `up` imports instead of creating;
- `import.json`: every resource the program then declares with an `import` option, in the format
  `pulumi import --file` reads (the ids are the program's own: synthesized from the config);
- `changes.md`: what the first `up` changes all the same, each with its reason: a live value below
  the stack's floor (the floor's value is inherited instead), or one the config cannot state.
Adoption never strengthens or weakens silently: every live value is either in the config or
listed in changes.md. Without `--repo`, the organisation's repositories that no stack governs are
listed instead (`inventory.md`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config import ConfigError
from infra.config.github import GitHubConfig
from infractl.errors import UsageError
from infractl.markdown import code, text
from infractl.ops.github_api import ApiFailure, GitHubApi, GitHubError
from infractl.ops.github_live import LiveRepository, organisation_repositories, read_repository
from infractl.project import Stack
from secret_patterns import redact

NAMESPACE_KEY = "tbcoin-platform:github"
REVIEW = "Review it before merging it into the stack's settings file (docs/tutorials/adopt.md)."


@dataclass
class Change:
    """A live value the first `up` changes: the key, what is live, what is declared, why."""

    repo: str
    key: str
    live: Any
    declared: Any
    why: str


@dataclass
class Adopted:
    repo: str
    layer: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Key -> why the stack refused its live value (the inherited one applies instead).
    reasons: dict[str, str] = field(default_factory=dict)


# --- live answers -> a repository layer --------------------------------------------------------


def _enabled(section: dict[str, Any], name: str) -> bool:
    return ((section or {}).get(name) or {}).get("status") == "enabled"


def _rules(ruleset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["type"]: r.get("parameters") or {} for r in ruleset.get("rules") or []}


def _branch_rules(ruleset: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    rules = _rules(ruleset)
    pr = rules.get("pull_request")
    checks = rules.get("required_status_checks")
    actors = []
    for actor in ruleset.get("bypass_actors") or []:
        kind = actor.get("actor_type")
        if kind in ("EnterpriseOwner", "User"):
            notes.append(f"bypass actor {kind} {actor.get('actor_id')} cannot be declared here")
            continue
        entry = {"actorType": kind, "bypassMode": actor.get("bypass_mode") or "always"}
        if actor.get("actor_id") is not None:
            entry["actorId"] = actor["actor_id"]
        actors.append(entry)
    layer: dict[str, Any] = {
        "enforcement": ruleset.get("enforcement"),
        "requiredApprovals": (pr or {}).get("required_approving_review_count", 0),
        "dismissStaleReviews": bool((pr or {}).get("dismiss_stale_reviews_on_push")),
        "requireCodeOwnerReview": bool((pr or {}).get("require_code_owner_review")),
        "requireLastPushApproval": bool((pr or {}).get("require_last_push_approval")),
        "requireConversationResolution": bool((pr or {}).get("required_review_thread_resolution")),
        "requiredChecks": [c["context"] for c in (checks or {}).get("required_status_checks", [])],
        "strictChecks": bool((checks or {}).get("strict_required_status_checks_policy")),
        "linearHistory": "required_linear_history" in rules,
        "blockForcePushes": "non_fast_forward" in rules,
        "blockDeletion": "deletion" in rules,
        "bypassActors": actors,
    }
    if pr is None:
        notes.append("the live ruleset requires no pull request")
    return layer


def _environment(env: dict[str, Any], live: LiveRepository, notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"canAdminsBypass": bool(env.get("can_admins_bypass", True))}
    for rule in env.get("protection_rules") or []:
        if rule.get("type") == "required_reviewers":
            out["preventSelfReview"] = bool(rule.get("prevent_self_review"))
            teams = []
            for r in rule.get("reviewers") or []:
                if r.get("type") == "Team":
                    teams.append(r["reviewer"]["slug"])
                else:
                    login = (r.get("reviewer") or {}).get("login")
                    notes.append(f"environment {env['name']}: reviewer user {login} not declared")
            out["reviewers"] = teams
        elif rule.get("type") == "wait_timer":
            out["waitTimer"] = f"{int(rule.get('wait_timer') or 0)}m"
    out.setdefault("preventSelfReview", False)
    policy = env.get("deployment_branch_policy") or {}
    names = [p.get("name") for p in live.branch_policies.get(env["name"], [])]
    out["defaultBranchOnly"] = bool(policy.get("custom_branch_policies")) and names == [
        live.default_branch
    ]
    if policy and not out["defaultBranchOnly"]:
        notes.append(f"environment {env['name']}: branch policy {policy} {names} not declared")
    return out


def live_layer(live: LiveRepository) -> tuple[dict[str, Any], list[str]]:
    """The repository as config says it (camelCase keys), and what config cannot say."""
    r, notes = live.repository, list[str]()
    sec = r.get("security_and_analysis") or {}
    private = r.get("visibility") != "public"
    layer: dict[str, Any] = {
        "description": r.get("description") or "",
        "visibility": r.get("visibility"),
        "topics": list(r.get("topics") or []),
        "hasIssues": bool(r.get("has_issues")),
        "hasDiscussions": bool(r.get("has_discussions")),
        "hasWiki": bool(r.get("has_wiki")),
        "hasProjects": bool(r.get("has_projects")),
        "defaultBranch": live.default_branch,
        "merge": {
            "allowSquashMerge": bool(r.get("allow_squash_merge")),
            "allowRebaseMerge": bool(r.get("allow_rebase_merge")),
            "allowMergeCommit": bool(r.get("allow_merge_commit")),
            "allowAutoMerge": bool(r.get("allow_auto_merge")),
            "deleteBranchOnMerge": bool(r.get("delete_branch_on_merge")),
        },
        "security": {
            "secretScanning": _enabled(sec, "secret_scanning"),
            "pushProtection": _enabled(sec, "secret_scanning_push_protection"),
            "vulnerabilityAlerts": live.vulnerability_alerts,
            "dependabotSecurityUpdates": live.security_fixes,
        },
        "teams": [{"team": t["slug"], "permission": t["permission"]} for t in live.teams],
        "environments": {e["name"]: _environment(e, live, notes) for e in live.environments},
        "actions": {
            "allowedActions": live.actions.get("allowed_actions", "all"),
            "shaPinningRequired": bool(live.actions.get("sha_pinning_required")),
            "defaultWorkflowPermissions": live.workflow.get("default_workflow_permissions"),
            "canApprovePullRequests": bool(live.workflow.get("can_approve_pull_request_reviews")),
        },
        "pages": live.pages is not None,
    }
    if r.get("homepage"):
        layer["homepageUrl"] = r["homepage"]
    if private and layer["security"]["secretScanning"]:
        # GitHub runs it on a private repository only under a Secret Protection licence.
        layer["security"]["secretProtectionLicensed"] = True
    if live.selected_actions is not None:
        layer["actions"]["githubOwnedAllowed"] = bool(
            live.selected_actions.get("github_owned_allowed")
        )
        layer["actions"]["verifiedAllowed"] = bool(live.selected_actions.get("verified_allowed"))
    if live.ruleset is not None:
        layer["branchRules"] = _branch_rules(live.ruleset, notes)
    if live.other_rulesets:
        notes.append(f"other rulesets left alone (not governed): {', '.join(live.other_rulesets)}")
    return layer, notes


def _existing(live: LiveRepository, settings: Any) -> dict[str, Any]:
    """`existing:` for the resources the program declares that are live."""
    declared_labels = {label.name.lower() for label in settings.labels}
    policies = {
        env: next(p["id"] for p in found if p.get("name") == live.default_branch)
        for env, found in live.branch_policies.items()
        if env in settings.environments and settings.environments[env].default_branch_only
        and any(p.get("name") == live.default_branch for p in found)
    }  # fmt: skip
    existing: dict[str, Any] = {
        "repository": True,
        "labels": sorted(x["name"] for x in live.labels if x["name"].lower() in declared_labels),
        "teams": {
            t["slug"]: t["id"] for t in live.teams if t["slug"] in {a.team for a in settings.teams}
        },
        "environments": sorted(
            e["name"] for e in live.environments if e["name"] in settings.environments
        ),
        "deploymentPolicies": policies,
        "pages": live.pages is not None and settings.pages,
        "files": sorted(set(live.files or ()) & set(_managed_paths(live, settings))),
    }
    if live.ruleset is not None:
        existing["rulesetId"] = live.ruleset["id"]
    return {k: v for k, v in existing.items() if v not in ([], {}, False)}


def _label_changes(repo: str, live: LiveRepository, settings: Any) -> list[Change]:
    """Declared labels (the stack's layers declare them) whose live colour or text differs."""
    found = {x["name"].lower(): x for x in live.labels}
    changes = []
    for label in settings.labels:
        was = found.get(label.name.lower())
        if was is None:
            continue
        live_value = {"color": was.get("color"), "description": was.get("description") or ""}
        declared = {"color": label.color, "description": label.description}
        if live_value != declared:
            why = "labels are declared by the stack's layers"
            changes.append(Change(repo, f"labels.{label.name}", live_value, declared, why))
    return changes


def _managed_paths(live: LiveRepository, settings: Any) -> list[str]:
    if settings.managed_files.via != "defaultBranch":
        return []
    from infra.github.files import repository_files

    return list(repository_files(live.owner, live.name, settings, {}))


# --- minimal layer, settled against the stack --------------------------------------------------


def _without_inherited(layer: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in layer.items():
        base = inherited.get(key)
        if isinstance(value, dict) and isinstance(base, dict):
            smaller = _without_inherited(value, base)
            if smaller:
                out[key] = smaller
        elif value != base:
            out[key] = value
    return out


def _drop(layer: dict[str, Any], path: list[str]) -> Any:
    """Remove `path` from `layer` (the deepest key present); returns what was removed."""
    node = layer
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            return node.pop(part, None) if part in node else None
        node = node[part]
    return node.pop(path[-1], None)


def _leaves(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found.update(_leaves(f"{prefix}.{key}" if prefix else key, inner))
        return found
    return {prefix: value}


class _Settled(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems


def _github_document(stack: Stack) -> dict[str, Any]:
    raw = stack.file.config.get(NAMESPACE_KEY)
    if raw is None:
        raise UsageError(f"{stack.source}: no {NAMESPACE_KEY} section to adopt into")
    return dict(json.loads(raw))


def _validate(stack: Stack, document: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, message) of every problem the stack's config would have with `document`."""
    from infra.stack import load_stack

    flat = {**stack.file.config, NAMESPACE_KEY: json.dumps(document)}
    try:
        load_stack(stack.source, flat, stack.file.secret_keys, stack=stack.name)
    except ConfigError as exc:
        return [(p.path, p.message) for p in exc.problems]
    return []


def settle(stack: Stack, adopted: list[Adopted], groups: list[str]) -> dict[str, Any]:
    """The stack's github section with the adopted repositories in it, valid and at the floor:
    a live value the stack refuses is dropped (the inherited one applies) and listed as a
    change. Raises UsageError when dropping cannot make it valid."""
    document = _github_document(stack)
    by_repo = {a.repo: a for a in adopted}
    live_values = {a.repo: _leaves("", copy.deepcopy(a.layer)) for a in adopted}
    for _ in range(50):
        document["repositories"] = {
            **document.get("repositories", {}),
            **{a.repo: {"groups": groups, **a.layer} if groups else a.layer for a in adopted},
        }
        problems = _validate(stack, document)
        if not problems:
            break
        dropped = False
        for path, message in problems:
            repo = _repo_of(path)
            key = path.split(".", 3)[3] if path.count(".") >= 3 else ""
            if repo in by_repo and key and _drop(by_repo[repo].layer, key.split(".")) is not None:
                by_repo[repo].reasons[key] = message
                dropped = True
        if not dropped:
            raise UsageError(
                f"{stack.source}: the adopted repositories cannot be governed by stack "
                f"'{stack.name}' as they are: " + "; ".join(f"{p}: {m}" for p, m in problems[:3])
            )
    config = GitHubConfig.model_validate(document)
    for a in adopted:
        effective = config.settings[a.repo].model_dump(by_alias=True)
        for key, live in live_values[a.repo].items():
            declared = _at(effective, key)
            if declared != live:
                why = next(
                    (m for k, m in a.reasons.items() if key == k or key.startswith(f"{k}.")),
                    "the config cannot state the live value",
                )
                a.changes.append(Change(a.repo, key, live, declared, why))
    return document


def _repo_of(path: str) -> str | None:
    parts = path.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["github", "repositories"] else None


def _at(data: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


# --- the command -------------------------------------------------------------------------------


def checked_name(option: str, name: str) -> str:
    """An organisation (--owner) or repository name as the config's model accepts it."""
    import pydantic

    from infra.config.github import OwnerName, RepoName

    try:
        pydantic.TypeAdapter(OwnerName if option == "--owner" else RepoName).validate_python(name)
    except pydantic.ValidationError:
        shown = redact(name.encode("unicode_escape").decode()[:100])
        raise UsageError(
            f"{option} {shown!r}: not a GitHub name (letters, digits, . _ -)"
        ) from None
    return name


@dataclass(frozen=True)
class AdoptRequest:
    owner: str
    repos: tuple[str, ...]
    stack: str
    out: Path
    groups: tuple[str, ...] = ()
    force: bool = False
    config_file: str | None = None


def _yaml(data: Any) -> str:
    from infractl.synth.render import dump_yaml

    return dump_yaml(data)


def _config_text(request: AdoptRequest, document: dict[str, Any]) -> str:
    repos = {r: document["repositories"][r] for r in request.repos}
    header = (
        f"# Written by `infractl adopt --owner {request.owner} --stack {request.stack}`: the\n"
        f"# adopted repositories' layer, to merge under {NAMESPACE_KEY}.repositories of\n"
        f"# Pulumi.{request.stack}.yaml. What the stack's defaults and groups give is left out.\n"
        "# `existing:` names what the first `up` imports. changes.md lists what it changes.\n"
    )
    return header + _yaml({NAMESPACE_KEY: {"repositories": repos}})


def _changes_text(adopted: list[Adopted]) -> str:
    lines = ["# What the first `up` changes", "", REVIEW, ""]
    for a in adopted:
        lines += [f"## {code(a.repo, table=False)}", ""]
        if a.changes:
            lines += ["| setting | live | declared | why |", "|---|---|---|---|"]
            lines += [
                f"| {code(c.key)} | {code(redact(json.dumps(c.live)))} | "
                f"{code(redact(json.dumps(c.declared)))} | {text(c.why)} |"
                for c in a.changes
            ]
        else:
            lines.append("Nothing: every declared setting equals its live value.")
        lines += [""] + [f"- {text(n)}" for n in a.notes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def import_file(result: Any, repos: tuple[str, ...]) -> dict[str, Any]:
    """`pulumi import --file` input: the adopted repositories' resources that carry an `import`
    option in the synthesized program, with their parent component and provider."""
    names: dict[str, str] = {}
    resources: list[dict[str, Any]] = []
    for r in result.resources:
        parent = r.options.get("parent", "")
        if "import" not in r.options or parent.rsplit("::", 1)[-1] not in repos:
            continue
        provider = r.options["provider"]
        names.setdefault(provider.rsplit("::", 1)[-1], provider)
        component = parent.rsplit("::", 1)[-1]
        if component not in {x["name"] for x in resources if x.get("component")}:
            resources.append({"type": parent.split("::")[-2], "name": component, "component": True})
        resources.append(
            {
                "type": r.type,
                "name": r.name,
                "id": r.options["import"],
                "parent": component,
                "provider": provider.rsplit("::", 1)[-1],
            }
        )
    return {"nameTable": names, "resources": resources}


def command(request: AdoptRequest, api: GitHubApi) -> str:
    """Read, settle, synthesize, write; returns the summary. Nothing is written on any failure."""
    from infractl.project import open_stack
    from infractl.synth.outdir import check_out, replace_output

    cwd = Path.cwd()
    check_out(request.out, cwd=cwd, writer="adopt", replace=request.force)  # before any request
    stack = open_stack(request.stack, request.config_file)
    document = _github_document(stack)
    governed = set(document.get("repositories", {}))
    if not request.repos:
        return _inventory(request, api, stack, governed, cwd)
    for group in request.groups:
        if group not in document.get("groups", {}):
            raise UsageError(f"--group {group}: no such group in {stack.source}")
    for repo in request.repos:
        if repo in governed:
            raise UsageError(f"--repo {repo}: stack {stack.name} governs it already")
    probe = GitHubConfig.model_validate(
        {**document, "repositories": {r: {"groups": list(request.groups)} for r in request.repos}}
    )
    adopted, lives = [], []
    for repo in request.repos:
        with_files = probe.settings[repo].managed_files.via == "defaultBranch"
        live = _read(api, request.owner, repo, with_files)
        layer, notes = live_layer(live)
        inherited = probe.settings[repo].model_dump(by_alias=True)
        adopted.append(Adopted(repo, _without_inherited(layer, inherited), notes=notes))
        lives.append(live)
    document = settle(stack, adopted, list(request.groups))
    # What exists is known only now: which environments, teams and labels the config declares.
    settled = GitHubConfig.model_validate(document)
    for a, live in zip(adopted, lives, strict=True):
        settings = settled.settings[a.repo]
        a.layer["existing"] = _existing(live, settings)
        a.changes += _label_changes(a.repo, live, settings)
        document["repositories"][a.repo]["existing"] = a.layer["existing"]
    from infractl.stackfile import StackFile
    from infractl.synth.harness import run_program

    flat = {**stack.file.config, NAMESPACE_KEY: json.dumps(document)}
    result = run_program(stack.name, StackFile(stack.file.path, flat, stack.file.secret_keys),
                         stack_config(stack, flat))  # fmt: skip
    imports = import_file(result, request.repos)
    replace_output(
        request.out,
        {
            "config.yaml": _config_text(request, document),
            "import.json": json.dumps(imports, indent=2) + "\n",
            "changes.md": _changes_text(adopted),
        },
        cwd=cwd,
        writer="adopt",
        replace=request.force,
    )
    changes = sum(len(a.changes) for a in adopted)
    return (
        f"adopted {len(adopted)} repositories into {request.out}: config.yaml, import.json "
        f"({len([r for r in imports['resources'] if 'id' in r])} imports), changes.md "
        f"({changes} changes the first `up` makes); {api.sent} GitHub requests\n"
    )


def stack_config(stack: Stack, flat: dict[str, str]) -> Any:
    from infra.stack import load_stack

    return load_stack(stack.source, flat, stack.file.secret_keys, stack=stack.name)


def _read(api: GitHubApi, owner: str, repo: str, with_files: bool) -> LiveRepository:
    try:
        return read_repository(api, owner, repo, with_files=with_files)
    except ApiFailure as exc:
        if exc.status == 404 and not exc.permission:
            raise GitHubError(f"--repo {repo}: no repository {owner}/{repo} on GitHub") from None
        raise


def _inventory(
    request: AdoptRequest, api: GitHubApi, stack: Stack, governed: set[str], cwd: Path
) -> str:
    from infractl.project import find_project
    from infractl.stackfile import known_stacks, read_stack_file, stack_file_path
    from infractl.synth.outdir import replace_output

    project = find_project(cwd)
    for other in known_stacks(project):
        config = read_stack_file(stack_file_path(project, other)).config
        raw = config.get(NAMESPACE_KEY)
        if raw:
            governed |= set(json.loads(raw).get("repositories", {}))
    try:
        names = organisation_repositories(api, request.owner)
    except ApiFailure as exc:
        if exc.status == 404 and not exc.permission:
            raise GitHubError(f"--owner {request.owner}: no such organisation on GitHub") from None
        raise
    if not names:
        raise GitHubError(f"--owner {request.owner}: the organisation has no repositories")
    ungoverned = [n for n in names if n not in governed]
    lines = [
        f"# Repositories of {code(request.owner, table=False)} no stack governs",
        "",
        f"{len(ungoverned)} of {len(names)}. Adopt them with `infractl adopt --owner "
        f"{request.owner} --stack STACK --repo NAME... --out DIR`.",
        "",
        *(f"- {code(n, table=False)}" for n in ungoverned),
    ]
    replace_output(
        request.out,
        {"inventory.md": "\n".join(lines) + "\n"},
        cwd=cwd,
        writer="adopt",
        replace=request.force,
    )
    return (
        f"{len(ungoverned)} of {len(names)} repositories of {request.owner} are governed by no "
        f"stack: {request.out}/inventory.md; {api.sent} GitHub requests\n"
    )
