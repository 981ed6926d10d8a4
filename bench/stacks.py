"""Synthetic but valid stack configs of a given size, derived from the real prod stack."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def synthetic_stack(repositories: int, services: int) -> dict[str, Any]:
    document = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    config = document["config"]
    github = config["tbcoin-platform:github"]
    # As an estate is written: each repository names its group and inherits the rest (the whole
    # config must stay under the engine's limit, infractl.stackfile.ENGINE_CONFIG_LIMIT).
    template = github["repositories"]["tbcoin-engine-ml"]
    groups = template["groups"]
    for group in groups:
        github["groups"][group]["workflows"] = template["workflows"]
    github["repositories"] = {f"service-{i:04d}": {"groups": groups} for i in range(repositories)}
    prototypes = config["tbcoin-platform:services"]
    names = sorted(prototypes)
    config["tbcoin-platform:services"] = {
        f"svc-{i:02d}": {**copy.deepcopy(prototypes[names[i % len(names)]]), "pathPrefix": f"/s{i}"}
        for i in range(services)
    }
    # Room in the namespace for many services.
    config["tbcoin-platform:environments"]["production"]["quota"] = {
        "cpu": "2000", "memory": "4000Gi", "pods": 1000,
    }  # fmt: skip
    return document


def write_stack(folder: Path, repositories: int, services: int) -> Path:
    path = folder / f"Pulumi.bench-{repositories}r-{services}s.yaml"
    path.write_text(yaml.safe_dump(synthetic_stack(repositories, services), sort_keys=False))
    return path
