"""Every shipped config loads, opens with its command line, and matches what it promises."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bandmate.checkpoint_files import shipped_model, shipped_presets
from bandmate.codec.checkpoint import saved_settings
from bandmate.codec.model import CodecConfig
from bandmate.codec.train import TrainConfig as CodecTrainConfig
from bandmate.config import from_dict, load_config, merge, to_dict
from bandmate.errors import ConfigError
from bandmate.model.config import PRESETS, T5Config
from bandmate.tokens.config import TokenizeConfig
from bandmate.train.config import TrainConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_config_loads(path: Path) -> None:
    """Each config opens with the command that runs it and loads as that command's config."""
    first = path.read_text().splitlines()[0]
    if "bandmate tokenize" in first:
        assert f"--config configs/{path.name}" in first
        load_config(TokenizeConfig, path)
    elif "bandmate codec train" in first:
        assert f"--config configs/{path.name}" in first
        load_config(CodecTrainConfig, path)
    else:
        assert first.startswith(f"# bandmate train configs/{path.name}")
        load_config(TrainConfig, path)


def test_thesis_config_is_the_published_run() -> None:
    c = load_config(TrainConfig, CONFIGS / "thesis.yaml")
    assert (c.model.preset, c.batch_size, c.steps, c.model.dropout) == ("base", 32, 45000, 0.01)
    assert (c.data.input_length, c.data.target_length, c.data.layout) == (512, 3512, "flatten")
    assert c.optim.name == "adafactor"


def test_codec_config_is_the_shipped_codecs_first_stage() -> None:
    """configs/codec-stft.yaml trains the network the shipped codec was trained as."""
    config = load_config(CodecTrainConfig, CONFIGS / "codec-stft.yaml")
    shipped = Path(__file__).resolve().parents[2] / "src/bandmate/assets/codec/default"
    model = json.loads((shipped / "config.json").read_text())["model"]
    assert config.model == from_dict(CodecConfig, saved_settings(model, "config.json"), "x")
    assert config.vq_start_step > config.steps  # a plain autoencoder first


def test_the_model_section_is_a_preset_plus_fields() -> None:
    """A config without a model is the tiny preset; one that names a field alone keeps
    the tiny sizes; a preset's sizes yield to fields given beside it."""
    assert TrainConfig().model == T5Config(**PRESETS["tiny"])
    assert load_config(TrainConfig, None, ["model.dropout=0"]).model.d_model == 32
    sets = ["model.preset=mini", "model.num_buckets=64", "model.aligned_input=true"]
    model = load_config(TrainConfig, None, sets).model
    assert (model.preset, model.d_model, model.num_buckets) == (None, 128, 64)
    with pytest.raises(ConfigError, match=r"--set model.preset=huge: must be one of tiny"):
        load_config(TrainConfig, None, ["model.preset=huge"])


def test_a_saved_config_reads_back_and_takes_another_preset(tmp_path: Path) -> None:
    config = load_config(TrainConfig, CONFIGS / "shipped.yaml")
    written = to_dict(config)
    assert written["model"]["preset"] == "mini" and "d_model" not in written["model"]
    assert from_dict(TrainConfig, written) == config
    # as `bandmate demo` merges `train.*` over a written config
    small = from_dict(TrainConfig, merge(written, {"model": {"preset": "small"}}))
    assert small.model.preset == "small" and small.model.aligned_input


@pytest.mark.parametrize("preset", shipped_presets())
def test_the_shipped_models_training_configs_still_load(preset: str) -> None:
    """Written when the model section was its own dataclass (`cross_bias: false`,
    `num_buckets: 0` for the preset's), each loads as the model it trained."""
    directory = shipped_model(preset)
    config = load_config(TrainConfig, directory / "config.yaml")
    saved = json.loads((directory / "model.json").read_text())["model"]
    trained = T5Config(**T5Config.expand_settings(saved))
    tokens = {"vocab_size": trained.vocab_size, "num_streams": trained.num_streams}
    assert replace(config.model, **tokens) == trained
