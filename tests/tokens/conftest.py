"""Tiny random-weight EnCodec and w2v-BERT models (same classes as the real ones)."""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from transformers import EncodecConfig, EncodecModel, Wav2Vec2BertConfig, Wav2Vec2BertModel


@functools.cache
def tiny_encodec() -> EncodecModel:
    """EnCodec 24 kHz layout (hop 320 -> 75 Hz, codebooks of 1024) with tiny widths.

    Random weights leave the codebooks at zero (every code would be 0), so each codebook
    is filled with frames of the encoder's output (then of the residual) on noise, as a
    k-means initialisation would, so that codes spread over the range. Cached: tests only
    run it (inference), never change it.
    """
    torch.manual_seed(0)
    config = EncodecConfig(num_filters=4, hidden_size=8, num_lstm_layers=1, codebook_size=1024)
    model = EncodecModel(config).eval()
    with torch.no_grad():
        residual = model.encoder(0.1 * torch.randn(2, 1, 24_000 * 8))  # [2, D, 600]
        frames = residual.transpose(1, 2).reshape(-1, residual.shape[1])  # [1200, D]
        for layer in model.quantizer.layers:
            layer.codebook.embed.copy_(frames[torch.randperm(frames.shape[0])[:1024]])
            frames = frames - layer.codebook.decode(layer.codebook.encode(frames))
    return model


def tiny_w2v_bert(num_layers: int = 8) -> Wav2Vec2BertModel:
    torch.manual_seed(0)
    config = Wav2Vec2BertConfig(
        hidden_size=16,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=32,
        conv_depthwise_kernel_size=3,
    )
    return Wav2Vec2BertModel(config).eval()


@pytest.fixture(scope="session")
def w2v_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("w2v_bert_tiny")
    tiny_w2v_bert().save_pretrained(folder)
    return folder


def write_song(root: Path, song_id: str, seconds: float = 3.0, rate: int = 8000) -> Path:
    """A MedleyDB-layout song (drum set, electric bass, piano), deterministic per id."""
    rng = np.random.default_rng(zlib.crc32(song_id.encode()))
    t = np.arange(round(seconds * rate)) / rate
    clicks = (np.sin(2 * np.pi * 2 * t) > 0.9) * rng.uniform(-0.3, 0.3, t.shape)
    stems = {
        "drum set": clicks,
        "electric bass": 0.3 * np.sin(2 * np.pi * rng.uniform(40, 100) * t),
        "piano": 0.2 * np.sin(2 * np.pi * rng.uniform(200, 600) * t),
    }
    meta = {"stem_dir": f"{song_id}_STEMS", "mix_filename": f"{song_id}_MIX.wav", "stems": {}}
    stem_dir = root / "V1" / song_id / f"{song_id}_STEMS"
    stem_dir.mkdir(parents=True, exist_ok=True)
    for index, (label, wav) in enumerate(stems.items(), start=1):
        name = f"{song_id}_STEM_{index:02d}.wav"
        meta["stems"][f"S{index:02d}"] = {"filename": name, "instrument": label}
        sf.write(stem_dir / name, wav.astype(np.float32), rate)
    (root / "Metadata").mkdir(parents=True, exist_ok=True)
    (root / "Metadata" / f"{song_id}_METADATA.yaml").write_text(yaml.safe_dump(meta))
    return stem_dir
