"""T5Config: presets, and the settings a config file writes and reads."""

from __future__ import annotations

import dataclasses

import pytest

from bandmate.config import FieldError
from bandmate.model.config import PRESETS, T5Config, preset_config


def test_every_preset_sets_the_same_fields() -> None:
    fields = {f.name for f in dataclasses.fields(T5Config)}
    keys = {frozenset(values) for values in PRESETS.values()}
    assert len(keys) == 1 and next(iter(keys)) <= fields


def test_a_preset_plus_fields_expands_to_fields() -> None:
    values = T5Config.expand_settings({"preset": "mini", "dropout": 0.0, "num_buckets": 64})
    assert T5Config(**values) == preset_config("mini", 5122, dropout=0.0, num_buckets=64)
    with pytest.raises(FieldError, match="preset: must be one of tiny, mini, small, base"):
        T5Config.expand_settings({"preset": "huge"})


def test_settings_name_the_closest_preset_and_what_differs() -> None:
    config = preset_config("mini", 4354, dropout=0.0, num_buckets=128, max_distance=512)
    settings = config.to_settings()
    assert settings["preset"] == "mini" and settings["num_buckets"] == 128
    assert "d_model" not in settings and settings["vocab_size"] == 4354
    assert T5Config(**T5Config.expand_settings(settings)) == config
    assert config.preset is None and preset_config("base", 10).preset == "base"


def test_older_files_keys_read_as_they_were_meant() -> None:
    """Training configs written before the model section was a T5Config said
    `cross_bias: false` and `num_buckets: 0` (the preset's)."""
    old = {"preset": "tiny", "cross_bias": False, "num_buckets": 0, "max_distance": 0}
    assert T5Config(**T5Config.expand_settings(old)) == T5Config(**PRESETS["tiny"])
    with pytest.raises(FieldError, match="cross_bias: removed"):
        T5Config.expand_settings({"cross_bias": True})


def test_too_few_buckets_for_the_distance_name_the_field() -> None:
    with pytest.raises(FieldError, match="max_distance: num_buckets 8 / max_distance 4"):
        preset_config("tiny", 10, max_distance=4)
