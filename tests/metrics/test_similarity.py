import math

import librosa
import numpy as np
import pytest

from bandmate.metrics.outcome import classify_audio
from bandmate.metrics.similarity import (
    chroma_match,
    chroma_similarity,
    clip_chromas,
    fit_features,
    normalized_fit,
    rhythm_similarity,
)
from tests.metrics import signals
from tests.metrics.signals import RATE


def test_chroma_prefers_same_key_over_a_tritone_away():
    lead, accompaniment = signals.melody(0, 6.0), signals.melody(5, 6.0)
    same = chroma_similarity(lead, accompaniment, RATE)
    far = chroma_similarity(
        lead, librosa.effects.pitch_shift(accompaniment, sr=RATE, n_steps=6), RATE
    )
    assert chroma_similarity(lead, lead, RATE) == pytest.approx(1.0, abs=1e-5)
    assert same > far + 0.1


def test_rhythm_prefers_same_tempo_and_phase():
    kit = signals.drums(0, 6.0, bpm=110)
    same = rhythm_similarity(kit, signals.drums(1, 6.0, bpm=110), RATE)
    other = rhythm_similarity(kit, signals.drums(2, 6.0, bpm=137), RATE)
    assert same > 0.8 and other < 0.4


def test_silence_scores_zero_not_nan():
    quiet = signals.near_zero(0, 2.0) * 0
    assert rhythm_similarity(quiet, signals.drums(0, 2.0), RATE) == 0.0
    assert chroma_similarity(quiet, signals.melody(0, 2.0), RATE) == 0.0


def test_normalized_fit_baselines():
    assert normalized_fit([0.5], [0.8], [0.2]) == pytest.approx(0.5)
    assert normalized_fit([0.8, 0.8], [0.8, 0.8], [0.2, 0.2]) == pytest.approx(1.0)
    assert normalized_fit([0.2], [0.8], [0.2]) == pytest.approx(0.0)
    assert math.isnan(normalized_fit([0.3], [0.5], [0.5]))
    # An original no closer to the input than a shuffled one: no scale to measure on.
    assert math.isnan(normalized_fit([0.81], [0.663], [0.661]))
    assert math.isnan(normalized_fit([0.5], [0.2], [0.8]))


def test_chromas_computed_together_equal_each_clips_own():
    clips = np.stack([signals.melody(0, 3.0), signals.drums(1, 3.0), signals.chords(2, 3.0)])
    together = clip_chromas(clips, RATE)
    for clip, chroma in zip(clips, together, strict=True):
        alone = fit_features(clip, RATE)
        np.testing.assert_allclose(chroma, alone.chroma, rtol=1e-6, atol=1e-7)
        # and handing a computed chroma to the judge and the fit changes nothing
        given = fit_features(clip, RATE, chroma)
        assert chroma_match(given, alone) == pytest.approx(1.0, abs=1e-5)
        assert classify_audio(clip, RATE, chroma) == classify_audio(clip, RATE)
