"""A tiny checkpoint with the real classes: tiny T5, k-means semantic tokens, tiny EnCodec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bandmate.checkpoint import save_model
from bandmate.model.config import preset_config
from bandmate.model.t5 import T5
from bandmate.tokens.codecs import codec_from_spec
from bandmate.tokens.features import SpectralFeatures
from bandmate.tokens.layout import TokenLayout
from bandmate.tokens.semantic import STATE_JSON, STATE_TENSORS, fit_semantic
from tests.metrics.signals import melody
from tests.tokens.conftest import tiny_encodec

CLIP_SECONDS = 2.0


def build_checkpoint(root: Path, kind: str) -> Path:
    """Save a random tiny model with fitted tokenizer state as a checkpoint directory."""
    codec_dir = root / "encodec"
    tiny_encodec().save_pretrained(codec_dir)
    codec = codec_from_spec(f"encodec:{codec_dir}@3kbps")
    tokens = root / "tokens"
    clips = [torch.from_numpy(melody(seed, seconds=CLIP_SECONDS, rate=16000)) for seed in range(4)]
    semantic = fit_semantic(SpectralFeatures(), clips, num_clusters=16, seed=0)
    semantic.save(tokens)
    layout = TokenLayout(
        kind,
        semantic.vocab_size,
        codec.num_codebooks,
        codec.codebook_size,
        int(CLIP_SECONDS * 50),
        int(CLIP_SECONDS * codec.frame_rate_hz),
    )
    torch.manual_seed(0)
    model = T5(
        preset_config("tiny", layout.vocab_size, num_streams=layout.num_streams, dropout=0.0)
    )
    manifest = {
        "dataset": "medleydb",
        "pair": {"input": "drum set", "target": "bass"},
        "codec": {
            "spec": codec.spec,
            "num_codebooks": codec.num_codebooks,
            "codebook_size": codec.codebook_size,
        },
        "semantic": {
            "spec": semantic.spec,
            "state": STATE_JSON,
            "centroids": STATE_TENSORS,
            "vocab_size": semantic.vocab_size,
        },
    }
    checkpoint = root / f"checkpoint-{kind}"
    save_model(checkpoint, model, layout, manifest, tokens)
    return checkpoint


def music(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """A melody [S] or [S, C] (soundfile's layout) at `rate`."""
    wav = melody(1, seconds=seconds, rate=rate)
    return wav if channels == 1 else np.stack([wav] * channels, axis=1)
