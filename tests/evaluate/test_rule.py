"""The `rule` baseline: the obvious part on the input's beats and in its key."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.evaluate import rule
from bandmate.evaluate.rule import rule_accompaniment, rule_part
from bandmate.metrics import mir
from bandmate.metrics.agreement import beat_f
from bandmate.synth.render import default_soundfont, render_part
from bandmate.synth.score import Note, Part

RATE = 22050
BEAT_S = 0.6  # 100 BPM
G, B, D = 7, 11, 2  # pitch classes
G_MAJOR_I_IV_V_I = [(55, 59, 62), (60, 64, 67), (62, 66, 69), (55, 59, 62)]


def render(notes: list[Note], program: int, seconds: float, drum: bool = False) -> np.ndarray:
    """Notes through TimGM6mb, mono [S] float32."""
    part = Part("test", program, drum, "test", notes=notes)
    return render_part(part, round(seconds * RATE), RATE, 1, str(default_soundfont()))[0]


@pytest.fixture(scope="module")
def piano_in_g() -> np.ndarray:
    """4 s of piano chords in G major at 100 BPM, one chord per beat, I-IV-V-I."""
    notes = [
        Note(i * BEAT_S, i * BEAT_S + 0.5, p, 100)
        for i in range(7)
        for p in G_MAJOR_I_IV_V_I[(i // 2) % 4]
    ]
    return render(notes, 0, 4.0)


@pytest.fixture(scope="module")
def bass_in_g() -> np.ndarray:
    """4 s of finger bass at 100 BPM in G: G G D D C C D."""
    pitches = [43, 43, 50, 50, 48, 48, 50]
    return render(
        [Note(i * BEAT_S, i * BEAT_S + 0.5, p, 110) for i, p in enumerate(pitches)], 33, 4
    )


def test_bass_for_a_piano_in_g_plays_g_and_d_on_the_beats(piano_in_g: np.ndarray) -> None:
    part = rule_part(piano_in_g, RATE, "bass")
    assert {n.pitch % 12 for n in part.notes} == {G, D}
    assert all(28 <= n.pitch <= 43 for n in part.notes)  # E1..G2
    audio = rule_accompaniment(piano_in_g, RATE, "bass")
    assert audio.shape == piano_in_g.shape and audio.dtype == np.float32
    assert np.all(np.isfinite(audio)) and mir.audible(audio)
    input_beats = mir.beat_times(piano_in_g, RATE)
    assert beat_f(input_beats, mir.beat_times(audio, RATE)) >= 0.8


def test_drums_for_a_bass_input_line_up_with_its_beats(bass_in_g: np.ndarray) -> None:
    part = rule_part(bass_in_g, RATE, "drums")
    assert part.is_drum and {n.pitch for n in part.notes} == {
        rule.KICK,
        rule.SNARE,
        rule.CLOSED_HAT,
    }
    audio = rule_accompaniment(bass_in_g, RATE, "drums")
    assert audio.shape == bass_in_g.shape and np.all(np.isfinite(audio))
    input_beats = mir.beat_times(bass_in_g, RATE)
    assert input_beats.size >= 5
    assert beat_f(input_beats, mir.beat_times(audio, RATE)) >= 0.8
    onsets = sorted({n.start_s for n in part.notes})
    assert beat_f(input_beats, np.array(onsets)) == 1.0  # the hits are the beats


def test_harmonic_part_is_the_tonic_triad(piano_in_g: np.ndarray) -> None:
    part = rule_part(piano_in_g, RATE, "harmonic")
    assert {n.pitch % 12 for n in part.notes} == {G, B, D}
    audio = rule_accompaniment(piano_in_g, RATE, "harmonic")
    assert mir.key_of(piano_in_g + audio, RATE) == "G major"


def test_minor_key_gives_a_minor_triad(
    piano_in_g: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the key is forced: madmom's key CNN hears 4 s of synthetic minor chords unreliably
    # (i-iv-V-i in A minor comes out F major), and this tests the rule, not madmom
    monkeypatch.setattr(rule, "key_of", lambda wav, rate: "A minor")
    part = rule_part(piano_in_g, RATE, "harmonic")
    assert {n.pitch % 12 for n in part.notes} == {9, 0, 4}  # A C E
    assert {n.pitch % 12 for n in rule_part(piano_in_g, RATE, "bass").notes} == {9, 4}


def test_known_beats_and_key_are_used_as_given(piano_in_g: np.ndarray) -> None:
    # the panel's input analysis can be passed in; then madmom is not asked again
    beats = np.array([0.5, 1.0, 1.5, np.nan, 99.0])  # invalid and out-of-clip beats dropped
    part = rule_part(piano_in_g, RATE, "bass", beats=beats, key="E minor")
    assert [(n.start_s, n.pitch % 12) for n in part.notes] == [(0.5, 4), (1.0, 11), (1.5, 4)]
    assert all(n.end_s <= next_s for n, next_s in zip(part.notes, [1.0, 1.5, 4.0], strict=True))


def test_fewer_than_two_beats_fall_back_to_a_120_bpm_grid(
    piano_in_g: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rule, "beat_times", lambda wav, rate: np.array([1.0]))
    late = np.concatenate([np.zeros(RATE, dtype=np.float32), piano_in_g[: 3 * RATE]])
    part = rule_part(late, RATE, "drums")
    kicks = [n.start_s for n in part.notes if n.pitch == rule.KICK]
    starts = sorted({n.start_s for n in part.notes})
    assert starts[0] == pytest.approx(1.0, abs=0.02)  # the first onset
    np.testing.assert_allclose(np.diff(starts), 0.5)  # 120 BPM
    assert len(kicks) == 3


@pytest.mark.parametrize(
    "wav",
    [
        np.zeros(2 * RATE, dtype=np.float32),
        np.full(2 * RATE, np.nan, dtype=np.float32),
        np.zeros(0, dtype=np.float32),
    ],
    ids=["silence", "nan", "empty"],
)
def test_nothing_to_follow_gives_silence_of_the_same_length(wav: np.ndarray) -> None:
    for role in ("bass", "drums", "harmonic"):
        audio = rule_accompaniment(wav, RATE, role)
        assert audio.shape == wav.shape and not np.any(audio)


def test_unknown_role_raises(piano_in_g: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown panel role"):
        rule_part(piano_in_g, RATE, "vocals")  # type: ignore[arg-type]
