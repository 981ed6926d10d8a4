"""One governed repository: the repository and every setting and file the platform manages."""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_github as github

from infra.config.github import ActionPin, RepositorySettings
from infra.github.files import repository_files
from infra.github.repository import repository_args
from infra.github.rulesets import default_branch_ruleset


def _team_id(slug: str, opts: pulumi.InvokeOptions) -> pulumi.Output[int]:
    return github.get_team_output(slug=slug, opts=opts).id.apply(int)


class GovernedRepository(pulumi.ComponentResource):
    def __init__(
        self,
        owner: str,
        name: str,
        settings: RepositorySettings,
        pins: dict[str, ActionPin],
        provider: github.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tbcoin:github:GovernedRepository", name, None, opts)
        s = settings
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        invoke = pulumi.InvokeOptions(provider=provider)
        repo = github.Repository(
            name,
            **repository_args(name, s),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    # Losing a repository is unrecoverable: refuse deletes, keep it on removal.
                    protect=True,
                    retain_on_delete=True,
                    import_=name if s.import_existing else None,
                    # The deprecated field is owned by RepositoryVulnerabilityAlerts below.
                    ignore_changes=["vulnerabilityAlerts"],
                ),
            ),
        )
        on_repo = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[repo]))
        alerts = github.RepositoryVulnerabilityAlerts(
            f"{name}-vulnerability-alerts",
            repository=name,
            enabled=s.security.vulnerability_alerts,
            opts=on_repo,
        )
        github.RepositoryDependabotSecurityUpdates(
            f"{name}-dependabot-security-updates",
            repository=name,
            enabled=s.security.dependabot_security_updates,
            opts=pulumi.ResourceOptions.merge(on_repo, pulumi.ResourceOptions(depends_on=[alerts])),
        )
        if s.labels:
            github.IssueLabels(
                f"{name}-labels",
                repository=name,
                labels=[
                    {"name": label.name, "color": label.color, "description": label.description}
                    for label in s.labels
                ],
                opts=on_repo,
            )
        for access in s.teams:
            github.TeamRepository(
                f"{name}-team-{access.team}",
                repository=name,
                team_id=access.team,
                permission=access.permission,
                opts=on_repo,
            )
        for env_name, env in sorted(s.environments.items()):
            github.RepositoryEnvironment(
                f"{name}-environment-{env_name}",
                repository=name,
                environment=env_name,
                reviewers=[{"teams": [_team_id(t, invoke) for t in env.reviewers]}]
                if env.reviewers
                else None,
                prevent_self_review=env.prevent_self_review,
                can_admins_bypass=env.can_admins_bypass,
                wait_timer=env.wait_timer_minutes,
                deployment_branch_policy={
                    "protected_branches": True,
                    "custom_branch_policies": False,
                }
                if env.protected_branches_only
                else None,
                opts=on_repo,
            )
        a = s.actions
        github.ActionsRepositoryPermissions(
            f"{name}-actions-permissions",
            repository=name,
            enabled=True,
            allowed_actions=a.allowed_actions,
            allowed_actions_config={
                "github_owned_allowed": a.github_owned_allowed,
                "verified_allowed": a.verified_allowed,
                "patterns_alloweds": sorted(f"{action}@*" for action in pins),
            }
            if a.allowed_actions == "selected"
            else None,
            sha_pinning_required=a.sha_pinning_required,
            opts=on_repo,
        )
        github.WorkflowRepositoryPermissions(
            f"{name}-workflow-permissions",
            repository=name,
            default_workflow_permissions=a.default_workflow_permissions,
            can_approve_pull_request_reviews=a.can_approve_pull_requests,
            opts=on_repo,
        )
        if s.pages:
            github.RepositoryPages(
                f"{name}-pages", repository=name, build_type="workflow", opts=on_repo
            )
        files = self._files(owner, name, s, pins, repo, on_repo)
        ruleset_deps = files if s.managed_files.via == "defaultBranch" else []
        github.RepositoryRuleset(
            f"{name}-default-branch",
            repository=name,
            **default_branch_ruleset(s),
            opts=pulumi.ResourceOptions.merge(
                on_repo, pulumi.ResourceOptions(depends_on=ruleset_deps)
            ),
        )
        self.register_outputs({"fullName": f"{owner}/{name}"})

    def _files(
        self,
        owner: str,
        name: str,
        s: RepositorySettings,
        pins: dict[str, ActionPin],
        repo: github.Repository,
        opts: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        m = s.managed_files
        via_pr = m.via == "pullRequest"
        branch = m.branch if via_pr else s.default_branch
        contents = repository_files(owner, name, s, pins)
        files: list[pulumi.Resource] = []
        for path, content in contents.items():
            files.append(
                github.RepositoryFile(
                    f"{name}-file-{path}",
                    repository=name,
                    file=path,
                    content=content,
                    branch=branch,
                    autocreate_branch=via_pr,
                    autocreate_branch_source_branch=s.default_branch if via_pr else None,
                    overwrite_on_create=True,
                    commit_author=m.commit_author,
                    commit_email=m.commit_email,
                    commit_message=f"chore(platform): manage {path}",
                    opts=opts,
                )
            )
        if via_pr:
            digest = hashlib.sha256("".join(contents.values()).encode()).hexdigest()[:12]
            github.RepositoryPullRequest(
                f"{name}-managed-files-pr",
                base_repository=name,
                base_ref=s.default_branch,
                head_ref=branch,
                title="chore(platform): sync managed files",
                body=(
                    "Files managed by tbcoin-platform (Pulumi): "
                    + ", ".join(f"`{p}`" for p in contents)
                    + f".\n\nContent digest: `{digest}`. Review and merge like any other change."
                ),
                maintainer_can_modify=False,
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=files)),
            )
        return files
