"""Every shipped config loads, opens with its command line, and matches what it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bandmate.codec.model import CodecConfig
from bandmate.codec.train import TrainConfig as CodecTrainConfig
from bandmate.config import from_dict, load_config
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
    assert config.model == from_dict(CodecConfig, model, "config.json")
    assert config.vq_start_step > config.steps  # a plain autoencoder first
