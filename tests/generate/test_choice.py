"""Choosing among candidates: `bandmate generate --candidates N --max-candidates M`, and
`bandmate evaluate` scoring the candidate `bandmate generate` keeps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bandmate.evaluate.run import clip_audio
from bandmate.generate.accompanist import GenerateConfig, Timings
from bandmate.generate.choice import draw_candidates, pick_candidate

RATE = 24_000


def _notes(seconds: float = 4.0) -> np.ndarray:
    """A melody of plucked notes, two per second: music by the outcome classifier."""
    t = np.arange(round(RATE / 2)) / RATE
    notes = [np.sin(2 * np.pi * hz * t) * np.exp(-4 * t) for hz in (220, 277, 330, 440)]
    return (0.3 * np.concatenate(notes * round(seconds / 2))).astype(np.float32)


def _melody(hz: tuple[float, ...], late_s: float = 0.0, seconds: float = 4.0) -> np.ndarray:
    """Plucked notes of `hz` in turn, two per second, `late_s` after the beat."""
    t = np.arange(round(RATE / 2)) / RATE
    notes = [np.sin(2 * np.pi * f * t) * np.exp(-4 * t) for f in hz]
    return np.roll(0.3 * np.concatenate(notes * round(seconds / 2)), round(late_s * RATE)).astype(
        np.float32
    )


def _noise(seconds: float = 4.0) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(round(seconds * RATE))).astype(
        np.float32
    )


def test_pick_candidate_keeps_music_that_follows_the_input() -> None:
    source = _notes()
    best, scores = pick_candidate(np.stack([_noise(), source]), source, RATE)
    assert best == 1 and len(scores) == 2
    assert scores[1]["outcome"] == "music" and scores[0]["outcome"] != "music"


def test_rhythm_counts_twice_in_the_choice() -> None:
    # The right notes 80 ms late against the beat, two of four notes wrong: with chroma
    # and rhythm counted once each the late one would win; the choice keeps the one in time.
    source = _melody((220, 277, 330, 440))
    late, in_time = _melody((220, 277, 330, 440), late_s=0.08), _melody((220, 311, 330, 494))
    best, scores = pick_candidate(np.stack([late, in_time]), source, RATE)
    assert all(s["outcome"] == "music" for s in scores)
    assert scores[0]["chroma"] + scores[0]["rhythm"] > scores[1]["chroma"] + scores[1]["rhythm"]
    assert best == 1


class Batches:
    """A stand-in accompanist that hands out the given batches of candidates in turn,
    checking the batch size asked for and that every call shares one random stream."""

    def __init__(self, *batches: np.ndarray) -> None:
        self.batches, self.calls = list(batches), 0
        self.codec = SimpleNamespace(sample_rate_hz=RATE)
        self.stream = object()
        self.drawn_parts: list[object] = []  # a codec-token checkpoint draws no notes

    def generator(self, config: GenerateConfig) -> object:
        return self.stream

    def accompany(
        self, wav: np.ndarray, rate: int, config: GenerateConfig, generator: object
    ) -> tuple[np.ndarray, Timings, int]:
        assert generator is self.stream
        batch = self.batches[self.calls]
        assert config.candidates == len(batch)
        self.calls += 1
        return batch, Timings(decode=1.0), 1


def test_more_candidates_are_drawn_only_while_none_is_music(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="bandmate.generate.choice")
    source = _notes()
    # The first batch holds music: no second batch, although the limit allows three.
    acc = Batches(np.stack([_noise(), source]), np.stack([source, source]))
    choice = draw_candidates(acc, source, RATE, GenerateConfig(candidates=2, max_candidates=6))  # type: ignore[arg-type]
    assert acc.calls == 1 and choice.best == 1 and len(choice.scores) == 2
    # Noise first: a second batch, whose music is kept (index counted over all drawn).
    acc = Batches(np.stack([_noise(), _noise()]), np.stack([_noise(), source]), np.stack([source]))
    choice = draw_candidates(acc, source, RATE, GenerateConfig(candidates=2, max_candidates=6))  # type: ignore[arg-type]
    assert acc.calls == 2 and choice.best == 3 and len(choice.scores) == 4
    assert "none of 2 candidates judged music: drawing 2 more (at most 6)" in caplog.text
    np.testing.assert_array_equal(choice.audio, source)
    assert choice.timings.decode == 2.0


def test_drawing_stops_at_the_limit_and_keeps_the_best_so_far() -> None:
    source = _notes()
    quiet = 0.01 * _noise()
    acc = Batches(np.stack([_noise(), quiet]), np.stack([_noise(), _noise()]), np.stack([quiet]))
    choice = draw_candidates(acc, source, RATE, GenerateConfig(candidates=2, max_candidates=5))  # type: ignore[arg-type]
    assert acc.calls == 3 and len(choice.scores) == 5  # the last batch is cut to the limit
    assert all(s["outcome"] != "music" for s in choice.scores)
    assert choice.scores[choice.best]["score"] == max(s["score"] for s in choice.scores)
    # Without a limit above `candidates`, one batch whatever it holds.
    acc = Batches(np.stack([_noise(), _noise()]))
    assert len(draw_candidates(acc, source, RATE, GenerateConfig(candidates=2)).scores) == 2  # type: ignore[arg-type]


def test_max_candidates_below_candidates_is_refused() -> None:
    with pytest.raises(ValueError, match="max_candidates"):
        GenerateConfig(candidates=8, max_candidates=4)


def test_evaluate_scores_the_first_candidate_as_the_single_try_and_the_pick_as_kept() -> None:
    source, first = _notes(), _noise()
    acc = Batches(np.stack([first, source, _noise()]))
    clip = SimpleNamespace(input=source, sample_rate_hz=RATE, at_rate=lambda rate: (source, source))
    test = SimpleNamespace(clip=clip, shuffled=_noise())
    audio, drawn = clip_audio(acc, test, GenerateConfig(candidates=3))  # type: ignore[arg-type]
    np.testing.assert_array_equal(audio["kept"], source)
    np.testing.assert_array_equal(audio["single"], first)  # chosen by nothing
    assert drawn == 3
    # One candidate drawn: the single try only, no `kept` to report beside it.
    acc = Batches(np.stack([first]))
    audio, drawn = clip_audio(acc, test, GenerateConfig(candidates=1))  # type: ignore[arg-type]
    assert "kept" not in audio and drawn == 1
