from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from bandmate.config import (
    Count,
    FieldError,
    Positive,
    Share,
    check_fields,
    load_config,
    parse_overrides,
    save_config,
)
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


@dataclass(frozen=True)
class Checked:
    mode: Literal["fast", "slow"] = "fast"
    count: Count = 1
    rate: Positive = 0.5
    shares: tuple[Share, ...] = (0.5,)
    limit: Count | None = None

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class Holder:
    checked: Checked = field(default_factory=Checked)
    other: int = 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "medium"}, "mode: must be one of fast, slow, got 'medium'"),
        ({"count": 0}, "count: must be a number at least 1, got 0"),
        ({"rate": 0.0}, "rate: must be a number above 0, got 0.0"),
        ({"rate": float("nan")}, "rate: must be a finite number above 0, got nan"),
        ({"rate": float("inf")}, "rate: must be a finite number above 0, got inf"),
        ({"shares": (0.5, 1.5)}, "shares: must be a number at least 0 and at most 1, got 1.5"),
        ({"limit": 0}, "limit: must be a number at least 1, got 0"),
    ],
)
def test_fields_outside_their_choices_or_range_are_refused(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(FieldError) as caught:
        Checked(**kwargs)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)  # what direct construction always raised
    assert Checked(limit=None) == Checked()


def test_a_bad_value_is_blamed_on_its_set_or_its_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("checked:\n  count: 0\n")
    with pytest.raises(ConfigError, match=r"^\S*c\.yaml: checked\.count: must be a number"):
        load_config(Holder, path)
    # the --set that overrides the file's value is the one at fault
    with pytest.raises(ConfigError, match=r"^--set checked\.count=-2: must be a number at least"):
        load_config(Holder, path, ["checked.count=-2"])
    assert load_config(Holder, path, ["checked.count=3"]).checked.count == 3
    path.write_text("checked:\n  count: 2\n")
    bad_sets = {
        "checked.nope=1": r"^--set checked\.nope=1: unknown key \(known: mode, count",
        "nope.x=1": r"^--set nope\.x=1: nope: unknown key",
        "checked=3": r"^--set checked=3: expected a mapping of settings, got a number",
        "other=true": r"^--set other=true: expected a whole number, got true/false",
        "checked.mode=quick": r"^--set checked\.mode=quick: must be one of fast, slow",
        "other=[1,": r"^--set other=\[1,: malformed value",
    }
    for override, message in bad_sets.items():
        with pytest.raises(ConfigError, match=message):
            load_config(Holder, path, [override])
    with pytest.raises(ConfigError, match="earlier --set"):
        load_config(Holder, None, ["other=1", "other.x=2"])


def test_a_file_whose_top_level_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- other: 1\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected `key: value` settings"):
        load_config(Holder, path)
    path.write_text("")  # an empty file is all defaults
    assert load_config(Holder, path) == Holder()


@dataclass(frozen=True)
class Sized:
    """A dataclass with named groups of values, as T5Config's presets."""

    width: int = 8
    depth: int = 2
    dropout: float = 0.1

    @classmethod
    def expand_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        values = dict(settings)
        if "size" in values:
            name = values.pop("size")
            if name not in {"small": 1, "large": 2}:
                raise FieldError("size", f"must be small or large, got {name!r}")
            values = {**{"small": {"width": 4}, "large": {"width": 64}}[name], **values}
        return values

    def to_settings(self) -> dict[str, Any]:
        return {"size": "large", "depth": self.depth, "dropout": self.dropout}


@dataclass(frozen=True)
class SizedHolder:
    sized: Sized = field(default_factory=lambda: Sized(width=4, dropout=0.5))


def test_missing_keys_of_a_nested_field_keep_its_default_instance():
    assert load_config(SizedHolder, None, ["sized.depth=3"]).sized == Sized(4, 3, 0.5)
    assert load_config(SizedHolder, None, []).sized == Sized(4, 2, 0.5)


def test_a_dataclass_translates_its_settings_both_ways(tmp_path: Path):
    config = load_config(SizedHolder, None, ["sized.size=large", "sized.width=32"])
    assert config.sized == Sized(32, 2, 0.5)  # a field given beside the group wins
    with pytest.raises(ConfigError, match=r"--set sized.size=huge: must be small or large"):
        load_config(SizedHolder, None, ["sized.size=huge"])
    save_config(load_config(SizedHolder, None, ["sized.size=large"]), tmp_path / "c.yaml")
    assert yaml.safe_load((tmp_path / "c.yaml").read_text()) == {
        "sized": {"size": "large", "depth": 2, "dropout": 0.5}
    }
    assert load_config(SizedHolder, tmp_path / "c.yaml").sized == Sized(64, 2, 0.5)
