"""Realism: the feature set, the Fréchet distance and the classifier two-sample test.

Real sets are bass lines rendered by the project's synth from different songs; the
tolerances come from benchmarks/panel_calibration.py (12 vs 12 real clips: accuracy
0.5 +- ~0.1, at most ~0.75 over 20 draws).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from bandmate.metrics.realism import (
    NUM_FEATURES,
    frame_features,
    frechet_distance,
    realism,
    two_sample_accuracy,
)
from bandmate.synth.band import band_song
from bandmate.synth.render import default_soundfont, render_part
from tests.metrics import signals

RATE = 22050


@functools.cache
def bass_clips(first_seed: int, songs: int) -> tuple[np.ndarray, ...]:
    """4 s bass clips [S] from `songs` band songs (2 s to 6 s of each), at -20 dBFS RMS."""
    clips = []
    for seed in range(first_seed, first_seed + songs):
        score = band_song(np.random.default_rng([seed, 0, 0]), 8.0, "test")
        part = next(p for p in score.parts if p.name == "bass")
        wav = render_part(part, 8 * RATE, RATE, 1, str(default_soundfont()))[0]
        clip = wav[2 * RATE : 6 * RATE]
        clips.append((clip * 0.1 / max(float(np.sqrt(np.mean(clip**2))), 1e-9)).astype(np.float32))
    return tuple(clips)


@functools.cache
def features(first_seed: int, songs: int) -> tuple[np.ndarray, ...]:
    return tuple(frame_features(c, RATE) for c in bass_clips(first_seed, songs))


def noise_features(count: int) -> list[np.ndarray]:
    return [frame_features(signals.white_noise(s, seconds=4.0), RATE) for s in range(count)]


def test_frame_features_shape_and_bad_audio():
    frames = frame_features(bass_clips(100, 1)[0], RATE)
    assert frames.shape == (round(4.0 * RATE / 512) + 1, NUM_FEATURES)
    assert np.isfinite(frames).all()
    for bad in (np.zeros(4 * RATE), np.full(4 * RATE, np.nan), np.ones(10), np.zeros(0)):
        out = frame_features(bad.astype(np.float32), RATE)
        assert out.shape[1] == NUM_FEATURES and np.isfinite(out).all()
    assert frame_features(np.zeros(0, dtype=np.float32), RATE).shape == (0, NUM_FEATURES)
    stereo = np.stack([bass_clips(100, 1)[0]] * 2)
    np.testing.assert_allclose(frame_features(stereo, RATE), frames, atol=1e-6)


def test_frechet_distance_of_gaussians():
    """|mu_a - mu_b|^2 for equal covariances; 0 for identical sets; NaN for < 2 frames."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 4))
    b = rng.standard_normal((20000, 4)) + np.array([3.0, 0.0, 0.0, 4.0])
    assert frechet_distance(a, b) == pytest.approx(25.0, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # Twice the std in one dimension: trace term (1 + 4 - 2 * 2) = 1.
    c = rng.standard_normal((20000, 4)) * np.array([2.0, 1.0, 1.0, 1.0])
    assert frechet_distance(a, c) == pytest.approx(1.0, abs=0.1)
    # A rank-deficient set (one repeated frame) still gives a finite, real distance.
    assert np.isfinite(frechet_distance(np.ones((50, 4)), a))
    assert np.isnan(frechet_distance(a[:1], b))
    with pytest.raises(ValueError, match="equal D"):
        frechet_distance(a, b[:, :3])


def test_real_sets_are_close_and_noise_is_far():
    real_a, real_b = list(features(0, 12)), list(features(50, 12))
    noise = noise_features(12)
    near = frechet_distance(np.concatenate(real_a), np.concatenate(real_b))
    far = frechet_distance(np.concatenate(noise), np.concatenate(real_b))
    assert near < 0.1 * far, (near, far)
    assert abs(two_sample_accuracy(real_a, real_b, seed=0) - 0.5) <= 0.25
    assert two_sample_accuracy(noise, real_b, seed=0) >= 0.95


def test_two_sample_accuracy_is_deterministic_and_works_with_six_clips():
    real_a, real_b = list(features(0, 6)), list(features(50, 6))
    first = two_sample_accuracy(real_a, real_b, seed=3)
    assert first == two_sample_accuracy(real_a, real_b, seed=3)
    assert 0.0 <= first <= 1.0
    assert two_sample_accuracy(noise_features(6), real_b, seed=3) >= 0.9
    assert np.isnan(two_sample_accuracy(real_a[:1], real_b, seed=3))


def test_realism_summary_survives_silent_and_nan_clips():
    generated = [*bass_clips(0, 5), np.zeros(4 * RATE), np.full(4 * RATE, np.nan)]
    result = realism(generated, list(bass_clips(50, 6)), RATE, seed=0)
    assert set(result) == {
        "frechet",
        "two_sample_accuracy",
        "generated_nonfinite",
        "real_nonfinite",
    }
    assert np.isfinite(result["frechet"]) and 0.0 <= result["two_sample_accuracy"] <= 1.0
    assert result["generated_nonfinite"] == 1.0 and result["real_nonfinite"] == 0.0
    assert realism(generated, list(bass_clips(50, 6)), RATE, seed=0) == result
