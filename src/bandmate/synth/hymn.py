"""Hymns: four-part chorale settings written by rule, so that no two songs are the same.

The music21 corpus holds a few hundred Bach chorales, and a model trained on their
renders learns the pieces rather than the texture: the shipped bass-to-instrumental
followed the rhythm of a chorale it was trained on (another render of it) about twice
as well as a held-out one. A hymn is a chorale's texture without its notes: a diatonic
progression with a cadence every two bars, voiced in four parts that mostly move
together on the beat (what a chorale's rhythm is), with passing eighths in single
voices, chords held across beats now and then, and a held chord at each phrase end.
"""

from __future__ import annotations

import numpy as np

from bandmate.synth.corpus import satb_parts
from bandmate.synth.plan import pick
from bandmate.synth.score import BeatNote, Score
from bandmate.synth.theory import METERS, Chord, Key

# Where each 0-based degree may go next (I ii iii IV V vi vii°), by common practice.
NEXT_DEGREE: dict[int, tuple[int, ...]] = {
    0: (3, 4, 5, 1, 0, 2),
    1: (4, 6, 4),
    2: (5, 3),
    3: (4, 0, 1, 6),
    4: (0, 5, 0, 3),
    5: (1, 3, 4),
    6: (0,),
}
# Voice ranges (MIDI pitches): soprano, alto, tenor, bass.
RANGES = ((60, 79), (55, 74), (48, 67), (38, 60))
HYMN_METERS = ("4/4", "4/4", "3/4")  # common time twice as often
PASSING = 0.25  # chance that a voice fills a third between two beats with an eighth
HOLD = 0.25  # chance that a chord lasts two beats instead of one
VELOCITY = 88


def _chord(key: Key, degree: int) -> Chord:
    """The degree's triad; in minor, V and vii° take the raised leading tone."""
    chord = key.chord(degree)
    if key.mode == "minor" and degree in (4, 6):
        leading = (key.tonic + 11) % 12
        pcs = tuple(leading if pc == (key.tonic + 10) % 12 else pc for pc in chord.pcs)
        chord = Chord(root=pcs[0], pcs=pcs)
    return chord


def progression(rng: np.random.Generator, beats: int) -> list[int]:
    """Degrees of a phrase of `beats` chord slots: starts on I, walks by NEXT_DEGREE and
    ends on an authentic (V I) or, one time in four, a half (-> V) cadence."""
    degrees = [0]
    while len(degrees) < beats - 2:
        degrees.append(pick(rng, NEXT_DEGREE[degrees[-1]]))
    half = rng.random() < 0.25
    degrees += [pick(rng, (1, 3)), 4] if half else [4, 0]
    return degrees[:beats]


def _voice(chord: Chord, low: int, high: int, previous: int, below: int) -> int:
    """A chord tone in [low, high] under `below`, nearest to the voice's last pitch."""
    tones = [p for p in chord.pitches(low, high) if p < below] or chord.pitches(low, high)
    return min(tones, key=lambda p: (abs(p - previous), p))


def voice_chords(
    rng: np.random.Generator, key: Key, degrees: list[int], start: tuple[int, ...]
) -> list[tuple[int, ...]]:
    """(soprano, alto, tenor, bass) pitches per chord: the bass on the root (a third in
    one of four, an inversion), the upper voices each on the chord tone nearest its last
    pitch, the soprano nudged up or down a step now and then so the tune moves."""
    voiced: list[tuple[int, ...]] = []
    last = start
    for degree in degrees:
        chord = _chord(key, degree)
        bass_pc = chord.pcs[1] if rng.random() < 0.25 and degree != 0 else chord.root
        basses = [p for p in range(RANGES[3][0], RANGES[3][1] + 1) if p % 12 == bass_pc]
        bass = min(basses, key=lambda p: (abs(p - last[3]), p))
        soprano = _voice(chord, *RANGES[0], last[0] + int(rng.integers(-2, 3)), 128)
        alto = _voice(chord, *RANGES[1], last[1], soprano)
        tenor = _voice(chord, *RANGES[2], last[2], alto)
        last = (soprano, alto, tenor, bass)
        voiced.append(last)
    return voiced


def _passing(key: Key, a: int, b: int) -> int | None:
    """The scale pitch between two pitches a third apart, if there is one."""
    if abs(a - b) not in (3, 4):
        return None
    between = key.scale_pitches(min(a, b) + 1, max(a, b) - 1)
    return between[0] if len(between) == 1 else None


def write_voices(
    rng: np.random.Generator, key: Key, voiced: list[tuple[int, ...]], lengths: list[float]
) -> list[list[BeatNote]]:
    """Notes of the four voices [soprano, alto, tenor, bass]: every chord struck together
    for its length, except that an inner voice keeping its pitch may tie over (one time in
    two), and a third between two one-beat chords may be filled by a passing eighth in
    any voice (PASSING), so the voices' rhythms differ now and then as a chorale's do."""
    voices: list[list[BeatNote]] = [[], [], [], []]
    start = 0.0
    for i, (pitches, length) in enumerate(zip(voiced, lengths, strict=True)):
        following = voiced[i + 1] if i + 1 < len(voiced) else pitches
        for v, pitch in enumerate(pitches):
            notes = voices[v]
            if v in (1, 2) and notes and notes[-1].pitch == pitch and rng.random() < 0.5:
                last = notes[-1]
                notes[-1] = BeatNote(last.start_b, last.length_b + length, pitch, VELOCITY)
                continue
            fill = _passing(key, pitch, following[v]) if length == 1.0 else None
            if fill is not None and rng.random() < PASSING:
                notes.append(BeatNote(start, 0.5, pitch, VELOCITY))
                notes.append(BeatNote(start + 0.5, 0.5, fill, VELOCITY))
            else:
                notes.append(BeatNote(start, length, pitch, VELOCITY))
        start += length
    return voices


def phrase_lengths(rng: np.random.Generator, phrase_b: int) -> list[float]:
    """Chord lengths in beats of one phrase of `phrase_b` beats: mostly one beat, two
    now and then (HOLD), and two for the cadence chord (the fermata)."""
    lengths: list[float] = []
    while sum(lengths) < phrase_b - 2:
        two = rng.random() < HOLD and sum(lengths) + 2 <= phrase_b - 2
        lengths.append(2.0 if two else 1.0)
    return [*lengths, 2.0]


def hymn_voices(
    rng: np.random.Generator, until_b: float, beats_per_bar: float
) -> tuple[Key, list[list[BeatNote]]]:
    """A key and the notes of four voices (soprano first) covering `until_b` beats, in
    two-bar phrases, each a `progression` ending on a cadence chord held two beats."""
    key = Key(int(rng.integers(12)), "major" if rng.random() < 0.6 else "minor")
    degrees: list[int] = []
    lengths: list[float] = []
    while sum(lengths) < until_b:
        phrase = phrase_lengths(rng, int(2 * beats_per_bar))
        degrees += progression(rng, len(phrase))
        lengths += phrase
    start = tuple(int(np.mean(r)) for r in RANGES)
    voiced = voice_chords(rng, key, degrees, start)
    return key, write_voices(rng, key, voiced, lengths)


def hymn_song(rng: np.random.Generator, duration_s: float, title: str) -> Score:
    """A hymn written by rule, one stem per voice on a chorale ensemble (as `chorale`)."""
    meter = pick(rng, HYMN_METERS)
    tempo = float(rng.integers(60, 101))
    key, voices = hymn_voices(rng, duration_s * tempo / 60.0, METERS[meter].beats_per_bar)
    ensemble, parts = satb_parts(rng, voices, tempo, duration_s, held_out=False)
    return Score(
        title=title,
        source="hymn",
        origin="bandmate hymn (rule-written)",
        genre="Classical",
        tempo_bpm=tempo,
        key=key.name,
        meter=meter,
        style=f"hymn ({ensemble})",
        duration_s=duration_s,
        sections=["hymn"],
        parts=parts,
    )
