"""docker-build.yml: build the image and scan it with Trivy; results go to code scanning."""

from __future__ import annotations

from infra.github.workflows.common import Workflow


def build(w: Workflow) -> None:
    w.document = {
        **w.top(
            "Docker Build and Security Scan",
            {
                "pull_request": {"paths": ["Dockerfile*", "requirements*.txt"]},
                "push": {"branches": [w.settings.default_branch], "tags": ["v*"]},
            },
        ),
        "jobs": {
            "build-and-scan": {
                "name": "Docker Build and Scan",
                "runs-on": "ubuntu-latest",
                "timeout-minutes": 30,
                "permissions": {"contents": "read", "security-events": "write"},
                "steps": [
                    w.checkout(),
                    {"name": "Set up Buildx", "uses": w.uses("docker/setup-buildx-action")},
                    {
                        "name": "Build image",
                        "uses": w.uses("docker/build-push-action"),
                        "with": {
                            "context": ".",
                            "file": "./Dockerfile",
                            "push": False,
                            "load": True,
                            "tags": "tbcoin-engine-ml:scan",
                        },
                    },
                    {
                        "name": "Scan image with Trivy",
                        "uses": w.uses("aquasecurity/trivy-action"),
                        "with": {
                            "image-ref": "tbcoin-engine-ml:scan",
                            "format": "sarif",
                            "output": "trivy-results.sarif",
                            "severity": "CRITICAL,HIGH",
                        },
                    },
                    {
                        "name": "Upload results to code scanning",
                        "if": "${{ always() }}",
                        "uses": w.uses("github/codeql-action/upload-sarif"),
                        "with": {"sarif_file": "trivy-results.sarif"},
                    },
                ],
            }
        },
    }
