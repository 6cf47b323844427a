from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from bandmate.codec import codec_from_checkpoint
from bandmate.codec.model import CodecConfig
from bandmate.codec.train import TrainConfig, lr_at, train_codec
from bandmate.errors import BandmateError


def test_lr_warms_up_then_decays() -> None:
    config = TrainConfig(steps=100, warmup_steps=10, learning_rate=1.0)
    rates = [lr_at(step, config) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[10] > rates[50] > rates[99] >= 0.1


def test_training_writes_a_loadable_checkpoint_and_curves(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    out = tmp_path / "ckpt"
    train_codec(audio_dir, out, replace(tiny_train_config, plot=True), progress=False)
    assert (out / "curves.png").is_file()
    curves = [json.loads(line) for line in (out / "train/curves.jsonl").read_text().splitlines()]
    assert [row["step"] for row in curves] == [1, 2, 3, 4, 5, 6]
    assert "valid/mel" in curves[2] and "valid/mel" in curves[5]
    # Steps 1-2 train a plain autoencoder; k-means then starts the quantizer at step 3.
    assert "vq/used_0" not in curves[1] and curves[2]["vq/used_0"] >= 1
    assert json.loads((out / "config.json").read_text())["train"]["steps"] == 6
    codec = codec_from_checkpoint(str(out))
    assert codec.encode(torch.zeros(1, 640)).shape == (1, 4, 2)


def test_loss_falls_when_overfitting(
    audio_dir: Path, tmp_path: Path, tiny_config: CodecConfig
) -> None:
    config = TrainConfig(
        model=replace(tiny_config, convnext_dim=16),
        steps=20,
        batch_size=4,
        segment_seconds=0.1,
        learning_rate=3e-3,
        warmup_steps=1,
        kmeans_crops=8,
        kmeans_iters=3,
        valid_crops=2,
        valid_every=20,
        log_every=5,
        save_every=20,
        plot=False,
    )
    train_codec(audio_dir, tmp_path / "ckpt", config, progress=False)
    rows = (tmp_path / "ckpt/train/curves.jsonl").read_text().splitlines()
    mel = [json.loads(line)["loss/mel"] for line in rows]
    assert mel[-1] < 0.8 * mel[0]


def test_resume_gives_the_same_run_as_not_stopping(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    train_codec(audio_dir, tmp_path / "straight", tiny_train_config, progress=False)
    halfway = replace(tiny_train_config, steps=3)
    train_codec(audio_dir, tmp_path / "resumed", halfway, progress=False)
    train_codec(audio_dir, tmp_path / "resumed", tiny_train_config, progress=False)

    def curve(name: str) -> list[float]:
        rows = (tmp_path / name / "train/curves.jsonl").read_text().splitlines()
        return [json.loads(line)["loss/total"] for line in rows]

    assert len(curve("resumed")) == 6
    assert curve("resumed") == pytest.approx(curve("straight"), rel=1e-5)
    a = load_file(str(tmp_path / "straight/model.safetensors"))
    b = load_file(str(tmp_path / "resumed/model.safetensors"))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6, msg=name)


def test_a_resume_can_quantize_a_plain_autoencoder_run(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    out = tmp_path / "ae"
    autoencoder = replace(tiny_train_config, steps=3, vq_start_step=1_000_000)
    train_codec(audio_dir, out, autoencoder, progress=False)
    before = load_file(str(out / "model.safetensors"))
    quantize = replace(autoencoder, steps=6, vq_start_step=3, learning_rate=0.5)
    train_codec(audio_dir, out, quantize, progress=False, changed={"steps", "vq_start_step"})

    rows = [json.loads(line) for line in (out / "train/curves.jsonl").read_text().splitlines()]
    assert "vq/used_0" not in rows[2] and rows[3]["vq/used_0"] >= 1
    after = load_file(str(out / "model.safetensors"))
    assert not torch.equal(before["quantizer.layers.0.embed"], after["quantizer.layers.0.embed"])
    state = json.loads((out / "train/state.json").read_text())["config"]
    # The learning rate was not named as changed, so the saved one stays.
    assert state["vq_start_step"] == 3 and state["learning_rate"] == tiny_train_config.learning_rate


@pytest.mark.parametrize(
    ("first_start", "new_start", "message"),
    [(1_000_000, 1, "before the resume step 3"), (2, 5, "already started at step 2")],
)
def test_a_resume_refuses_a_quantizer_start_it_cannot_keep(
    audio_dir: Path,
    tmp_path: Path,
    tiny_train_config: TrainConfig,
    first_start: int,
    new_start: int,
    message: str,
) -> None:
    out = tmp_path / "run"
    train_codec(
        audio_dir,
        out,
        replace(tiny_train_config, steps=3, vq_start_step=first_start),
        progress=False,
    )
    later = replace(tiny_train_config, steps=6, vq_start_step=new_start)
    with pytest.raises(BandmateError, match=message):
        train_codec(audio_dir, out, later, progress=False, changed={"vq_start_step"})


def test_refuses_to_overwrite_a_foreign_folder(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy/notes.txt").write_text("mine")
    with pytest.raises(BandmateError, match="holds no codec training state"):
        train_codec(audio_dir, tmp_path / "busy", tiny_train_config, progress=False)


def test_empty_data_folder_is_a_user_error(tmp_path: Path, tiny_train_config) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BandmateError, match="no audio files"):
        train_codec(tmp_path / "empty", tmp_path / "out", tiny_train_config, progress=False)
    assert not (tmp_path / "out").exists()


def test_fine_tuning_starts_from_a_checkpoint(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    train_codec(audio_dir, tmp_path / "base", tiny_train_config, progress=False)
    other_shape = replace(
        tiny_train_config, model=replace(tiny_train_config.model, convnext_dim=16)
    )
    tuned = replace(other_shape, steps=2, stft_weight=1.0, logfreq_weight=1.0, phase_weight=1.0)
    train_codec(audio_dir, tmp_path / "tuned", tuned, progress=False, init_from=tmp_path / "base")
    config = json.loads((tmp_path / "tuned/config.json").read_text())
    assert config["model"]["convnext_dim"] == tiny_train_config.model.convnext_dim  # the base's
    rows = (tmp_path / "tuned/train/curves.jsonl").read_text().splitlines()
    first = json.loads(rows[0])
    assert "loss/stft" in first and "loss/logfreq" in first and "loss/phase" in first
    assert "vq/used_0" in first  # quantizer on from step 1
    base_books = load_file(str(tmp_path / "base/model.safetensors"))
    tuned_books = load_file(str(tmp_path / "tuned/model.safetensors"))
    drift = base_books["quantizer.layers.0.embed"] - tuned_books["quantizer.layers.0.embed"]
    assert float(drift.abs().max()) < 0.5  # codebooks continued, not re-initialized


def test_a_frozen_encoder_keeps_every_code_and_tunes_the_decoder(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    train_codec(audio_dir, tmp_path / "base", tiny_train_config, progress=False)
    tuned = replace(tiny_train_config, steps=3, freeze_encoder=True, learning_rate=0.05)
    train_codec(audio_dir, tmp_path / "tuned", tuned, progress=False, init_from=tmp_path / "base")
    base = load_file(str(tmp_path / "base/model.safetensors"))
    after = load_file(str(tmp_path / "tuned/model.safetensors"))
    for name, value in base.items():  # weights, BatchNorm statistics and codebooks
        same = torch.equal(value, after[name])
        assert same != name.startswith("decoder."), name
    wav = torch.randn(1, 1600, generator=torch.Generator().manual_seed(0)) * 0.3
    codes = codec_from_checkpoint(str(tmp_path / "base")).encode(wav)
    assert torch.equal(codec_from_checkpoint(str(tmp_path / "tuned")).encode(wav), codes)


def test_a_frozen_encoder_needs_a_codec_to_start_from(
    audio_dir: Path, tmp_path: Path, tiny_train_config: TrainConfig
) -> None:
    frozen = replace(tiny_train_config, freeze_encoder=True)
    with pytest.raises(BandmateError, match="--init-from"):
        train_codec(audio_dir, tmp_path / "out", frozen, progress=False)
    assert not (tmp_path / "out").exists()
