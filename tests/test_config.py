from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from bandmate.config import load_config, parse_overrides, save_config
from bandmate.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    steps: int = 10
    rate: float = 1e-3
    name: str = "x"


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    sizes: tuple[int, ...] = (1, 2)
    out: str | None = None


def test_yaml_plus_overrides_round_trip(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("inner:\n  steps: 5\nsizes: [3, 4]\n")
    config = load_config(Outer, path, ["inner.rate=2", "out=runs/a"])
    assert config == Outer(Inner(steps=5, rate=2.0), (3, 4), "runs/a")
    save_config(config, tmp_path / "resolved.yaml")
    assert load_config(Outer, tmp_path / "resolved.yaml") == config
    assert yaml.safe_load((tmp_path / "resolved.yaml").read_text())["sizes"] == [3, 4]


def test_defaults_without_file():
    assert load_config(Outer) == Outer()


@pytest.mark.parametrize("override", ["inner.nope=1", "inner.steps=abc", "noequals"])
def test_bad_overrides_are_config_errors(override: str):
    with pytest.raises(ConfigError):
        load_config(Outer, None, [override])


def test_malformed_yaml_names_the_file(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("inner: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML"):
        load_config(Outer, path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(Outer, tmp_path / "missing.yaml")


def test_parse_overrides_nests_and_types_values():
    assert parse_overrides(["a.b.c=1", "a.d=true", "e=[1, 2]"]) == {
        "a": {"b": {"c": 1}, "d": True},
        "e": [1, 2],
    }


def test_exponent_without_dot_is_a_float():
    assert load_config(Outer, None, ["inner.rate=3e-4"]).inner.rate == 3e-4
