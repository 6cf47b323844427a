"""Chord parts (piano, guitar, organ, pad ...): voicings with voice leading, many rhythms."""

from __future__ import annotations

import itertools

import numpy as np

from bandmate.synth.plan import Bar, SongPlan, pick
from bandmate.synth.score import BeatNote
from bandmate.synth.theory import Chord, Meter

STRUM = "x.x.xox.oxox.x.o"  # x down-strum, o up-strum (16th grid)
STABS = ("..x...x...x..x..", "x.....x..x...x..", "...x..x....x..x.")


def voicing(chord: Chord, previous: list[int]) -> list[int]:
    """A close-position voicing of `chord` whose centre is nearest the previous one's."""
    centre = float(np.mean(previous)) if previous else 62.0
    centre = min(max(centre, 56.0), 68.0)
    best: list[int] = []
    for inversion in range(len(chord.pcs)):
        pcs = chord.pcs[inversion:] + chord.pcs[:inversion]
        for base in range(48, 66):
            if base % 12 != pcs[0]:
                continue
            notes = [base]
            for pc in pcs[1:]:
                notes.append(notes[-1] + (pc - notes[-1]) % 12)
            if not best or abs(np.mean(notes) - centre) < abs(np.mean(best) - centre):
                best = notes
    return best


def _hits(rhythm: str, meter: Meter, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(step, length in steps) of one bar's chord hits."""
    steps = meter.steps_per_bar
    if rhythm == "sustain":
        return [(0, steps)]
    if rhythm == "pulse":
        bounds = [*meter.pulses, steps]
        return [(a, b - a) for a, b in itertools.pairwise(bounds)]
    if rhythm == "skank":
        return [(s, 1) for s in range(2, steps, 4)]
    if rhythm == "comp":
        count = int(rng.integers(1, 4))
        picks = sorted(
            rng.choice(np.arange(0, steps, 2), size=min(count, steps // 2), replace=False)
        )
        return [(int(s), 3) for s in picks]
    if rhythm == "stabs":
        text = (STABS[int(rng.integers(len(STABS)))] * 2)[:steps]
        return [(s, 1) for s, m in enumerate(text) if m == "x"]
    text = (STRUM * 2)[:steps]
    return [(s, 2) for s, m in enumerate(text) if m != "."]


def _arpeggio(notes: list[int], start: float, bar_b: float, step_b: float) -> list[BeatNote]:
    """Broken chord in 8ths (2 grid steps), up and down the voicing plus the octave."""
    cycle = [*notes, notes[0] + 12, *reversed(notes[1:])]
    out = []
    count = round(bar_b / (2 * step_b))
    for i in range(count):
        out.append(BeatNote(start + i * 2 * step_b, 2.5 * step_b, cycle[i % len(cycle)], 78))
    return out


def chord_part(
    plan: SongPlan,
    rng: np.random.Generator,
    program: int,
    rhythm: str | None = None,
    transpose: int = 0,
) -> list[BeatNote]:
    """The whole chord part of a song, in beats.

    Args:
        rhythm: one of the rhythms above; None picks one of the style's.
        transpose: semitones added to every voicing (pads an octave up, say).
    """
    rhythm = rhythm or str(pick(rng, plan.style.chord_rhythms))
    if rhythm == "power" and program not in (29, 30):
        rhythm = "strum"
    meter = plan.meter
    step_b = meter.beats_per_step
    strum_b = 0.012 * plan.tempo_bpm / 60.0  # ~12 ms between strings
    notes: list[BeatNote] = []
    previous: list[int] = []
    for index, bar in enumerate(plan.bars):
        start = plan.bar_start(index)
        for c, chord in enumerate(bar.chords):
            previous = voicing(chord, previous)
            pitches = [p + transpose for p in previous]
            span = meter.steps_per_bar // len(bar.chords)
            offset = start + c * span * step_b
            notes += _chord_hits(rhythm, bar, meter, rng, pitches, offset, span, strum_b)
    return notes


def _chord_hits(
    rhythm: str,
    bar: Bar,
    meter: Meter,
    rng: np.random.Generator,
    pitches: list[int],
    offset: float,
    span: int,
    strum_b: float,
) -> list[BeatNote]:
    step_b = meter.beats_per_step
    if rhythm == "arpeggio":
        return _arpeggio(pitches, offset, span * step_b, step_b)
    if rhythm == "power":
        pitches = [pitches[0] - 12, pitches[0] - 5, pitches[0]]
    out = []
    for step, length in _hits(rhythm, meter, rng):
        if step >= span:
            continue
        length = min(length, span - step)
        velocity = 92 if step in meter.pulses else 76
        up = rhythm == "strum" and (step % 4) != 0
        order = list(reversed(pitches)) if up else pitches
        for i, pitch in enumerate(order):
            delay = i * strum_b if rhythm in ("strum", "power") else 0.0
            onset = offset + step * step_b + delay
            out.append(BeatNote(onset, length * step_b * 0.92 - delay, pitch, velocity - 4 * i))
    return out
