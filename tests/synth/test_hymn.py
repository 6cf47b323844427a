"""Hymns written by rule: four voices that move together, cadences, never the same twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bandmate.synth.dataset import synthesize
from bandmate.synth.hymn import RANGES, hymn_song, hymn_voices, phrase_lengths, progression
from bandmate.synth.score import BeatNote
from bandmate.synth.theory import Key
from tests.synth.conftest import tiny_settings


def onsets(notes: list[BeatNote]) -> set[float]:
    return {n.start_b for n in notes}


def test_progression_starts_on_the_tonic_and_ends_on_a_cadence() -> None:
    for seed in range(20):
        degrees = progression(np.random.default_rng(seed), 7)
        assert len(degrees) == 7 and degrees[0] == 0
        assert degrees[-2:] == [4, 0] or degrees[-1] == 4


def test_phrases_fill_two_bars_and_hold_the_cadence() -> None:
    for seed in range(20):
        for phrase_b in (6, 8):
            lengths = phrase_lengths(np.random.default_rng(seed), phrase_b)
            assert sum(lengths) == phrase_b and lengths[-1] == 2.0
            assert set(lengths) <= {1.0, 2.0}


def test_voices_stay_in_range_in_order_and_cover_the_time() -> None:
    key, voices = hymn_voices(np.random.default_rng(3), 32.0, 4.0)
    for notes, (low, high) in zip(voices, RANGES, strict=True):
        assert all(low <= n.pitch <= high for n in notes)
        assert max(n.start_b + n.length_b for n in notes) >= 32.0
    means = [np.mean([n.pitch for n in notes]) for notes in voices]
    assert means == sorted(means, reverse=True)  # soprano above alto above tenor above bass
    scale = set(key.scale_pcs) | {(key.tonic + 11) % 12}  # minor's raised leading tone
    assert all(n.pitch % 12 in scale for notes in voices for n in notes)


def test_the_voices_move_together_on_the_beat() -> None:
    """A chorale's rhythm: the bass and the upper voices start most notes together."""
    _, voices = hymn_voices(np.random.default_rng(5), 64.0, 4.0)
    bass, upper = onsets(voices[3]), onsets(voices[0]) | onsets(voices[1]) | onsets(voices[2])
    assert len(bass & upper) >= 0.8 * len(bass)
    # ... yet not in lockstep: passing eighths and ties give single voices their own notes.
    assert any(onsets(v) != onsets(voices[3]) for v in voices[:3])
    assert any(n.length_b == 0.5 for v in voices for n in v)


def test_every_seed_writes_another_hymn_and_each_is_reproducible() -> None:
    def pitches(seed: int) -> list[int]:
        return [n.pitch for n in hymn_voices(np.random.default_rng(seed), 16.0, 4.0)[1][0]]

    assert pitches(1) == pitches(1)
    assert len({tuple(pitches(seed)) for seed in range(10)}) == 10


def test_hymn_song_is_a_chorale_ensemble_with_a_bass_part() -> None:
    song = hymn_song(np.random.default_rng([0, 7]), 12.0, "hymn")
    assert song.source == "hymn" and song.style.startswith("hymn (")
    assert [p.name for p in song.parts] == ["soprano", "alto", "tenor", "bass"]
    assert [p.component for p in song.parts] == ["melody", "", "", "bass"]
    assert all(p.notes and all(n.end_s <= 12.0 for n in p.notes) for p in song.parts)
    assert song.key in {Key(t, m).name for t in range(12) for m in ("major", "minor")}


def test_synth_renders_hymns(tmp_path: Path) -> None:
    report = synthesize(tmp_path / "hymns", tiny_settings(songs=2, sources=(("hymn", 1.0),)), 1)
    assert report.sources == {"hymn": 2}
    stems = sorted((tmp_path / "hymns" / "Audio").glob("*/*_STEMS/*.wav"))
    assert len(stems) == 8  # four voices per song
