"""Tiny codec configs and short synthesized audio for the codec tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bandmate.codec.model import CodecConfig
from bandmate.codec.train import TrainConfig

# Real rates (24 kHz, hop 320 -> 75 Hz), toy widths: builds and runs in milliseconds.
TINY = CodecConfig(
    latent_dim=8, num_codebooks=4, codebook_size=32, convnext_dim=8, convnext_layers=2, mlp_mult=2
)


def plucks(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Decaying harmonic notes with random pitches, [S] float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    freq = rng.choice([110.0, 165.0, 220.0, 330.0, 440.0], size=len(t) // (rate // 4) + 1)
    f = np.repeat(freq, rate // 4)[: len(t)]
    phase = 2 * np.pi * np.cumsum(f) / rate
    env = np.exp(-6 * (t % 0.25))
    return (0.3 * env * (np.sin(phase) + 0.3 * np.sin(2 * phase))).astype(np.float32)


@pytest.fixture
def make_plucks() -> Callable[[float, int, int], np.ndarray]:
    return plucks


@pytest.fixture
def tiny_config() -> CodecConfig:
    return TINY


@pytest.fixture
def tiny_train_config() -> TrainConfig:
    return TrainConfig(
        model=TINY,
        steps=6,
        batch_size=2,
        segment_seconds=0.1,
        warmup_steps=2,
        vq_start_step=2,
        kmeans_crops=4,
        kmeans_iters=3,
        valid_crops=2,
        valid_every=3,
        log_every=1,
        save_every=3,
        plot=False,
    )


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    """Six short files at mixed rates and channel counts, one in a subfolder."""
    root = tmp_path / "audio"
    (root / "sub").mkdir(parents=True)
    for index, rate in enumerate((16_000, 24_000, 44_100, 22_050, 48_000, 24_000)):
        wav = plucks(0.6, rate, seed=index)
        data = np.stack([wav, 0.5 * wav], axis=1) if index % 2 else wav
        folder = root / "sub" if index == 5 else root
        sf.write(folder / f"clip{index}.wav", data, rate)
    return root
