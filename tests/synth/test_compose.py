"""Composition: theory helpers, humanizing, and the variety and coherence of band songs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bandmate.data.roles import Role, role_of
from bandmate.synth.band import band_song
from bandmate.synth.bass import bass_part
from bandmate.synth.harmony import voicing
from bandmate.synth.humanize import TICKS_PER_BEAT, perform, swing_beat
from bandmate.synth.mixing import MIX_PEAK, integer_mix, level_stems, quantize
from bandmate.synth.plan import draw_tempo, plan_song
from bandmate.synth.score import BeatNote
from bandmate.synth.styles import STYLE_BY_NAME
from bandmate.synth.theory import METERS, Key, meter_of


def test_diatonic_chords() -> None:
    assert Key(0, "major").chord(4).pcs == (7, 11, 2)  # G B D
    assert Key(9, "minor").chord(0, seventh=True).pcs == (9, 0, 4, 7)  # A C E G
    assert Key(2, "dorian").chord(3).pcs == (7, 11, 2)  # IV of D dorian is major


def test_meter_of_unknown_signature_gets_a_grid() -> None:
    assert meter_of("2/2", 4.0).name == "4/4"
    odd = meter_of("11/8", 5.5)
    assert odd.steps_per_bar == 22 and odd.pulses[0] == 0


def test_tempo_counts_the_felt_pulse() -> None:
    rng = np.random.default_rng(0)
    compound = [draw_tempo(rng, 90, 160, METERS["6/8"]) for _ in range(200)]
    simple = [draw_tempo(rng, 90, 160, METERS["4/4"]) for _ in range(200)]
    assert min(compound) >= 135 and max(compound) <= 180 and len(set(compound)) > 10
    assert min(simple) >= 90 and max(simple) <= 160 and len(set(simple)) > 30


def test_voicing_leads_smoothly() -> None:
    c = Key(0, "major").chord(0)
    f = Key(0, "major").chord(3)
    first = voicing(c, [])
    second = voicing(f, first)
    assert sorted(p % 12 for p in second) == sorted(f.pcs)
    assert abs(np.mean(second) - np.mean(first)) <= 4


def test_swing_moves_only_the_offbeat() -> None:
    assert swing_beat(2.0, 1 / 6) == 2.0
    assert swing_beat(0.5, 1 / 6) == pytest.approx(2 / 3)
    assert swing_beat(0.5, 0.0) == 0.5


def test_perform_humanizes_on_the_tick_grid_and_cuts_at_the_end() -> None:
    rng = np.random.default_rng(0)
    notes = [BeatNote(float(b), 2.0, 60, 90) for b in range(20)]  # overlapping equal pitches
    played = perform(notes, 120.0, 5.0, rng)
    tick_s = 60.0 / (120.0 * TICKS_PER_BEAT)
    starts = np.array([n.start_s for n in played])
    assert np.allclose(np.round(starts / tick_s) * tick_s, starts)
    assert 0 < np.abs(starts - np.round(starts * 2) / 2).max() < 0.03  # jittered, slightly
    assert all(n.end_s <= 5.0 for n in played) and max(starts) < 5.0
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(played))


def test_bass_follows_the_chords() -> None:
    rng = np.random.default_rng(3)
    plan = plan_song(rng, 20.0, STYLE_BY_NAME["rock"])
    notes = bass_part(plan, rng)
    bar_b = plan.meter.beats_per_bar
    downbeats = [n for n in notes if n.start_b % bar_b == 0]
    assert len(downbeats) == len(plan.bars)
    roots = [plan.bars[int(n.start_b // bar_b)].chords[0].root for n in downbeats]
    assert [n.pitch % 12 for n in downbeats] == roots


def test_band_songs_vary_and_have_the_four_parts() -> None:
    songs = [band_song(np.random.default_rng([11, i]), 8.0, f"s{i}") for i in range(40)]
    assert len({s.style for s in songs}) >= 6
    assert len({s.meter for s in songs}) >= 3
    assert len({s.key for s in songs}) >= 10
    tempos = [s.tempo_bpm for s in songs]
    assert min(tempos) >= 60 and max(tempos) <= 180 and max(tempos) - min(tempos) > 60
    for song in songs:
        names = [p.name for p in song.parts]
        assert names[:4] == ["drums", "bass", "chords", "lead"]
        assert set(names[4:]) <= {"pad", "backing vocals", "percussion"}
        assert all(p.notes for p in song.parts)
    roles = [{role_of(p.label) for p in s.parts} for s in songs]
    assert sum(Role.VOCALS in r for r in roles) >= 10  # voice-like leads, labelled as singers
    assert sum(Role.BASS in r for r in roles) >= 30
    assert sum(len(s.parts) > 4 for s in songs) >= 10  # extra stems, as real songs have


def test_same_generator_same_song() -> None:
    a = band_song(np.random.default_rng([1, 2]), 8.0, "x")
    b = band_song(np.random.default_rng([1, 2]), 8.0, "x")
    assert a == b


def test_levelled_stems_never_clip_and_sum_exactly() -> None:
    rng = np.random.default_rng(0)
    stems = [rng.normal(0, scale, (1, 8000)).astype(np.float32) for scale in (0.1, 0.5, 2.0)]
    levelled = level_stems(stems, [0.0, 3.0, -3.0], 8000)
    assert np.abs(np.sum(levelled, axis=0)).max() <= MIX_PEAK + 1e-6
    assert max(np.abs(w).max() for w in levelled) <= MIX_PEAK + 1e-6
    clicks = np.zeros((1, 8000), np.float32)
    clicks[0, ::400] = 1.0  # a high crest factor: peaks far above the level's RMS
    cancel = level_stems([clicks, -clicks], [0.0, 0.0], 8000)  # the mix is silent
    assert max(np.abs(w).max() for w in cancel) <= MIX_PEAK + 1e-6
    ints = [quantize(w) for w in levelled]
    mix = integer_mix(ints)
    assert np.array_equal(mix.astype(np.int32), np.sum([i.astype(np.int32) for i in ints], 0))
    with pytest.raises(AssertionError):
        integer_mix([np.full((1, 4), 30000, np.int16)] * 2)
