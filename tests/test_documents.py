"""Stack files and policy config are read strictly and within bounds (issue 18, point 5): every
refusal is one line naming the file, exit 2, and fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infra.config.documents import DocumentError, parse_json, parse_yaml
from infra.config.errors import ConfigError
from infractl.policy.config import load_policy_config
from tests.conftest import REPO, infractl


def alias_bomb(levels: int = 7) -> str:
    """Each level is nine aliases of the one below: 9**levels values from ~430 bytes."""
    lines = ["config:", "  tbcoin-platform:x:", "    l0: &l0 [" + ",".join(["lol"] * 9) + "]"]
    lines += [
        f"    l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels + 1)
    ]
    return "\n".join(lines) + "\n"


def _synth_refuses(tmp_path: Path, content: str | bytes) -> str:
    stack_file = tmp_path / "Pulumi.bad.yaml"
    if isinstance(content, str):
        stack_file.write_text(content)
    else:
        stack_file.write_bytes(content)
    run = infractl(
        "synth", "--stack", "prod", "--config-file", stack_file, "--out", tmp_path / "out"
    )
    assert run.code == 2, run
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"{stack_file}: tbcoin-platform: "), run.stderr
    assert not (tmp_path / "out").exists()
    return run.stderr


def test_a_second_block_for_one_key_is_refused(tmp_path: Path) -> None:
    # Before: the second block silently switched the cluster context.
    stack = (REPO / "Pulumi.prod.yaml").read_text()
    doubled = stack + "  tbcoin-platform:kubernetes:\n    context: someone-elses-cluster\n"
    message = _synth_refuses(tmp_path, doubled)
    assert "duplicate key 'tbcoin-platform:kubernetes' (first on line" in message


def test_a_duplicate_nested_key_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"line 4: duplicate key 'replicas' \(first on line 3"):
        parse_yaml("config:\n  k:\n    replicas: 3\n    replicas: 1\n")


def test_merge_keys_override_without_being_duplicates() -> None:
    text = "base: &base {a: 1, b: 2}\nown:\n  <<: *base\n  b: 3\n"
    assert parse_yaml(text)["own"] == {"a": 1, "b": 3}


def test_the_alias_bomb_fails_fast(tmp_path: Path) -> None:
    bomb = alias_bomb(7)
    assert len(bomb.encode()) < 450
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="more than 100000 values once aliases are expanded"):
        parse_yaml(bomb)
    assert time.perf_counter() - started < 0.5  # was 86 s and 4.4 GiB through `infractl synth`
    assert "once aliases are expanded" in _synth_refuses(tmp_path, bomb)


def test_moderate_aliases_are_fine() -> None:
    assert parse_yaml(alias_bomb(3))["config"]["tbcoin-platform:x"]["l3"][8][8][8][0] == "lol"


def test_an_alias_inside_itself_is_refused() -> None:
    with pytest.raises(DocumentError, match="an alias refers to a value that contains it"):
        parse_yaml("a: &a [1, *a]\n")


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    deep = "config:\n  tbcoin-platform:x: " + "[" * 5000 + "]" * 5000 + "\n"
    assert "nested deeper than 64 levels" in _synth_refuses(tmp_path, deep)
    block = "config:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(100)) + "  " * 101 + "x"
    assert "nested deeper than 64 levels" in _synth_refuses(tmp_path, block)


def test_aliases_cannot_build_depth_either() -> None:
    chain = "l0: &l0 [x]\n" + "".join(f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, 80))
    with pytest.raises(DocumentError, match="deeper than 64 levels once aliases are expanded"):
        parse_yaml(chain)


def test_non_utf8_is_one_line(tmp_path: Path) -> None:
    latin1 = "config:\n  tbcoin-platform:app:\n    name: caf\xe9\n".encode("latin-1")
    assert "not UTF-8 text: byte 0xe9 on line 3" in _synth_refuses(tmp_path, latin1)


def test_an_oversized_document_is_refused(tmp_path: Path) -> None:
    huge = "config:\n  tbcoin-platform:x: '" + "a" * (1 << 20) + "'\n"
    assert "larger than 1048576 bytes" in _synth_refuses(tmp_path, huge)


def test_several_documents_are_one_line(tmp_path: Path) -> None:
    assert "expected a single document" in _synth_refuses(tmp_path, "config: {}\n---\nx: 1\n")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"all": "advisory", "all": "disabled"}', "duplicate key 'all'"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
        ('{"x": {"limit": NaN}}', "NaN is not a JSON number"),
        ('{"x": ' + "9" * 5000 + "}", "not valid JSON: Exceeds the limit"),
        ('{"x": 1', "not valid JSON: line 1, column 8"),
    ],
)
def test_policy_config_is_read_strictly(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_policy_config(path)
    rendered = caught.value.render()
    assert rendered.startswith(f"{path}: policy config: ") and "\n" not in rendered
    assert problem in rendered


def test_policy_config_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(b'{"all": "advis\xffory"}')
    with pytest.raises(ConfigError, match="not UTF-8 text: byte 0xff on line 1"):
        load_policy_config(path)


def test_json_values_stay_as_they_were() -> None:
    assert parse_json('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert parse_yaml((REPO / "Pulumi.prod.yaml").read_text())["config"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('"' + "[" * 3000 + "]" * 3000 + '"', id="json-in-a-string"),
        pytest.param('"' + "{a: " * 3000 + "}" * 3000 + '"', id="yaml-in-a-string"),
    ],
)
def test_deep_documents_inside_string_values_are_one_line(tmp_path: Path, value: str) -> None:
    # Strings that look like documents are parsed again (a pasted kubeconfig is searched for
    # credentials; structured config arrives JSON-encoded): with the same bounds.
    for stack in (
        f"config:\n  tbcoin-platform:app:\n    name: {value}\n",
        f"config:\n  tbcoin-platform:app: {value}\n",
    ):
        run = infractl(
            "synth",
            "--stack",
            "prod",
            "--config-file",
            _write(tmp_path, stack),
            "--out",
            tmp_path / "out",
        )
        assert run.code == 2 and "Traceback" not in run.stderr, run.stderr[-500:]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.deep.yaml"
    path.write_text(text)
    return path


def test_a_deep_synth_output_given_to_check_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "resources.json").write_text("[" * 100_000 + "]" * 100_000)
    run = infractl("check", "--stack", "prod", "--from", tmp_path)
    assert run.code == 2 and run.stdout == ""
    assert run.stderr == (
        f"infractl: cannot read {tmp_path}/resources.json: nested deeper than 64 levels; "
        "refusing to read it\n"
    )


def test_a_deep_scorecard_base_is_one_line(tmp_path: Path) -> None:
    base = tmp_path / "resources.json"
    base.write_text("[" * 100_000 + "]" * 100_000)
    run = infractl("scorecard", "--stack", "prod", "--base", base)
    assert run.code == 2 and run.stdout == ""
    assert (
        run.stderr
        == f"infractl: cannot read {base}: nested deeper than 64 levels; refusing to read it\n"
    )
