"""The change `make e2e` previews on the deployed prod stack (e2e/changes.py) is valid config
and plans an update, a delete and the ConfigMap data change the provider replaces: checked
offline, so a renamed setting breaks this test, not a 20-minute e2e run."""

from __future__ import annotations

import copy
from pathlib import Path

from e2e import changes, stacks
from infractl.ops.base_plan import plan
from infractl.resources_file import load_resources_json
from tests.conftest import infractl, write_stack


def _synth(tmp_path: Path, name: str, document: dict) -> list[dict]:  # type: ignore[type-arg]
    settings = write_stack(tmp_path / f"Pulumi.prod-{name}.yaml", document)
    run = infractl(
        "synth", "--stack", "prod", "--config-file", settings, "--out", tmp_path / name,
        env=stacks.SECRET_ENV,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    return load_resources_json(tmp_path / name / "resources.json")


def test_the_prod_change_plans_an_update_a_delete_and_configmap_data(tmp_path: Path) -> None:
    deployed = stacks.settings("prod")
    edited = copy.deepcopy(deployed)
    made = changes.EDITS["prod"](edited["config"])
    assert sorted(m.split(":")[0] for m in made) == sorted(changes.EXPECTED)
    report = plan(_synth(tmp_path, "up", deployed), _synth(tmp_path, "edit", edited), "e2e")
    ops = {(c.op, c.type.rsplit(":", 1)[-1]) for c in report.changes}
    assert ("update", "Rollout") in ops
    assert ("delete", "HorizontalPodAutoscaler") in ops
    maps = [c for c in report.changes if c.type == "kubernetes:core/v1:ConfigMap"]
    assert maps and all(c.paths == ["data"] for c in maps)  # the provider's forceNew: `.data`
