"""What the prediction reads of a stack: these resource types, and of each only these
properties. The policy pack hands it exactly these (so a value computed elsewhere, unknown in
preview, never stops it) and needs this much at start-up, before the prediction itself."""

from __future__ import annotations

REPOSITORY = "github:index/repository:Repository"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
FILE = "github:index/repositoryFile:RepositoryFile"
BRANCH_DEFAULT = "github:index/branchDefault:BranchDefault"
READS: dict[str, tuple[str, ...]] = {
    REPOSITORY: ("name",),
    RULESET: ("repository", "target", "enforcement", "conditions", "rules", "bypassActors"),
    FILE: ("repository", "file", "content", "branch"),
    BRANCH_DEFAULT: ("repository", "branch"),
}
