"""`bandmate evaluate --candidates N` scores the candidate `bandmate generate` keeps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bandmate.evaluate.run import clip_audio
from bandmate.generate.accompanist import GenerateConfig
from bandmate.generate.run import pick_candidate

RATE = 24_000


def _notes(seconds: float = 4.0) -> np.ndarray:
    """A melody of plucked notes, two per second: music by the outcome classifier."""
    t = np.arange(round(RATE / 2)) / RATE
    notes = [np.sin(2 * np.pi * hz * t) * np.exp(-4 * t) for hz in (220, 277, 330, 440)]
    return (0.3 * np.concatenate(notes * round(seconds / 2))).astype(np.float32)


def _noise(seconds: float = 4.0) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(round(seconds * RATE))).astype(
        np.float32
    )


def test_pick_candidate_keeps_music_that_follows_the_input() -> None:
    source = _notes()
    best, scores = pick_candidate(np.stack([_noise(), source]), source, RATE)
    assert best == 1 and len(scores) == 2
    assert scores[1]["outcome"] == "music" and scores[0]["outcome"] != "music"


def test_evaluate_scores_the_picked_candidate_not_the_first() -> None:
    source = _notes()
    candidates = np.stack([_noise(), source, _noise()])
    acc = SimpleNamespace(
        codec=SimpleNamespace(sample_rate_hz=RATE),
        accompany=lambda *_: (candidates, None, None),
    )
    clip = SimpleNamespace(input=source, sample_rate_hz=RATE, at_rate=lambda rate: (source, source))
    test = SimpleNamespace(clip=clip, shuffled=_noise())
    audio = clip_audio(acc, test, GenerateConfig(candidates=3))  # type: ignore[arg-type]
    np.testing.assert_array_equal(audio["generated"], source)
