"""The metrics of benchmarks/codec_quality.py (needs librosa, a benchmark-only dependency)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("librosa", reason="benchmarks need librosa (pip install librosa)")
RATE = 24_000


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "codec_quality.py"
    spec = importlib.util.spec_from_file_location("codec_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notes(pitches: list[float], offset_s: float = 0.0) -> np.ndarray:
    """Half-second decaying notes, [S] float32 of 2 s."""
    t = np.arange(2 * RATE) / RATE
    wav = np.zeros_like(t)
    for index, freq in enumerate(pitches):
        start = 0.5 * index + offset_s
        local = t - start
        on = local >= 0
        wav[on] += 0.3 * np.exp(-6 * local[on]) * np.sin(2 * np.pi * freq * local[on])
    return wav.astype(np.float32)


def test_identical_audio_scores_perfectly(bench: ModuleType) -> None:
    wav = notes([220.0, 330.0, 262.0, 392.0])
    scores = bench.metrics(wav, wav)
    assert scores["logmel_distance"] == 0.0
    assert scores["chroma_cosine"] > 0.999 and scores["onset_f1"] == 1.0


def test_wrong_pitches_and_late_onsets_score_low(bench: ModuleType) -> None:
    ref = notes([220.0, 330.0, 262.0, 392.0])
    assert bench.chroma_cosine(ref, notes([233.0, 349.0, 277.0, 415.0])) < 0.8
    assert bench.onset_f1(ref, notes([220.0, 330.0, 262.0, 392.0], offset_s=0.2)) < 0.5


def test_opus_round_trip_keeps_length_at_about_6_kbps(bench: ModuleType) -> None:
    wav = notes([220.0, 330.0, 262.0, 392.0])
    decoded, kbps = bench.opus_roundtrip(wav)
    assert decoded.shape == wav.shape
    assert 4.0 < kbps < 8.0
    assert bench.chroma_cosine(wav, decoded) > 0.8


def test_loudest_window_finds_the_loud_part(bench: ModuleType) -> None:
    wav = np.zeros(4 * RATE, dtype=np.float32)
    wav[3 * RATE :] = 0.5
    window = bench.loudest_window(wav, RATE)
    assert len(window) == RATE and float(window.min()) == 0.5
    assert len(bench.loudest_window(wav[:100], RATE)) == RATE


def test_round_trip_without_the_quantizer_skips_the_codes(
    bench: ModuleType, tiny_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from bandmate.codec.model import CodecModel
    from bandmate.codec.neural import NeuralCodec

    torch.manual_seed(0)
    codec = NeuralCodec(CodecModel(tiny_config), "tiny")
    wav = notes([220.0, 330.0])[:1000]  # not a multiple of the hop
    coded = bench.roundtrip(codec, wav)
    direct = bench.roundtrip(codec, wav, skip_quantizer=True)
    assert coded.shape == direct.shape == wav.shape
    monkeypatch.setattr(codec, "encode", lambda _: pytest.fail("the codes were used"))
    bench.roundtrip(codec, wav, skip_quantizer=True)
    assert not np.allclose(coded, direct)  # the random codebooks move the audio
