"""SECURITY.md: supported versions, private reporting, and the response time we commit to."""

from __future__ import annotations

from infra.config.base import seconds
from infra.config.github import SecurityPolicy


def security_md(owner: str, repo: str, policy: SecurityPolicy) -> str:
    rows = "\n".join(
        f"| {v.version} | {'yes' if v.supported else 'no'} |" for v in policy.supported_versions
    )
    advisory = f"https://github.com/{owner}/{repo}/security/advisories/new"
    return f"""<!-- Managed by tbcoin-platform (Pulumi); change the platform config instead. -->
# Security Policy

## Supported versions

| Version | Supported |
| ------- | --------- |
{rows}

## Reporting a vulnerability

Please report vulnerabilities privately, never in a public issue, pull request or discussion:

- through GitHub's private vulnerability reporting: {advisory}
- or by email to {policy.contact}

Include what is affected, how to reproduce it, and the impact you expect.

## What happens next

- We acknowledge your report within {int(seconds(policy.response_time) // 3600)} hours.
- We confirm the problem, agree a disclosure date with you, and keep you informed until a fix is
  released.
- We credit reporters in the advisory unless they ask us not to.
"""
