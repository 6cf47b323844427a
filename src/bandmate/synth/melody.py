"""Lead melodies: phrases over the chords, chord tones on strong beats, breaths between.

Repeated sections repeat their melody (as verses and choruses do); intros leave the
lead silent.
"""

from __future__ import annotations

import numpy as np

from bandmate.synth.plan import SongPlan
from bandmate.synth.score import BeatNote
from bandmate.synth.theory import nearest

# Note lengths in grid steps and their weights, slow (singable) and busy (instrumental).
LENGTHS_SLOW = ((2, 4, 6, 8), (0.35, 0.35, 0.15, 0.15))
LENGTHS_BUSY = ((1, 2, 3, 4, 6), (0.15, 0.45, 0.1, 0.2, 0.1))
MOVES = (-4, -2, -1, -1, 0, 1, 1, 2, 4)


def _rhythm(steps: int, busy: bool, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(onset step, length in steps) of a phrase of `steps` steps, ending in a breath."""
    lengths, weights = LENGTHS_BUSY if busy else LENGTHS_SLOW
    rest = int(rng.integers(2, max(3, steps // 4)))
    out: list[tuple[int, int]] = []
    position = int(rng.integers(0, 3)) * 2 if rng.random() < 0.4 else 0  # late entries
    while position < steps - rest:
        length = int(rng.choice(lengths, p=weights))
        length = min(length, steps - rest - position)
        out.append((position, length))
        position += length
    return out


def _phrase(
    plan: SongPlan,
    first_bar: int,
    bars: int,
    low: int,
    high: int,
    rng: np.random.Generator,
    busy: bool,
) -> list[BeatNote]:
    """One phrase over `bars` bars starting at bar `first_bar`."""
    meter = plan.meter
    scale = plan.key.scale_pitches(low, high)
    step_b = meter.beats_per_step
    steps = bars * meter.steps_per_bar
    pitch = nearest(scale, (low + high) / 2 + rng.normal(0, 3))
    rhythm = _rhythm(steps, busy, rng)
    notes = []
    for i, (step, length) in enumerate(rhythm):
        bar = plan.bars[first_bar + step // meter.steps_per_bar]
        in_bar = step % meter.steps_per_bar
        chord = bar.chords[in_bar * len(bar.chords) // meter.steps_per_bar]
        index = scale.index(pitch) + int(MOVES[int(rng.integers(len(MOVES)))])
        pitch = scale[int(np.clip(index, 0, len(scale) - 1))]
        strong = in_bar in meter.pulses
        if (strong and rng.random() < 0.7) or i == len(rhythm) - 1:
            pitch = nearest(chord.pitches(low, high) or scale, pitch)
        start = plan.bar_start(first_bar) + step * step_b
        velocity = int(np.clip(rng.normal(96 if strong else 84, 6), 50, 120))
        notes.append(BeatNote(start, length * step_b * 0.95, pitch, velocity))
    return notes


def lead_part(
    plan: SongPlan,
    rng: np.random.Generator,
    low: int,
    high: int,
    busy: bool,
    skip_intro: bool = True,
) -> list[BeatNote]:
    """The whole lead part of a song, in beats, within pitches [low, high]."""
    cache: dict[tuple[str, int], list[BeatNote]] = {}
    notes: list[BeatNote] = []
    starts = [i for i, bar in enumerate(plan.bars) if bar.first_in_section]
    for first in starts:
        section = plan.bars[first].section
        count = next((i for i in starts if i > first), len(plan.bars)) - first
        if section == "intro" and skip_intro:
            continue
        key = (section, count)
        if key not in cache:
            phrase_bars = 2 if count % 2 == 0 else 1
            material: list[BeatNote] = []
            for offset in range(0, count, phrase_bars):
                bars = min(phrase_bars, count - offset)
                material += _phrase(plan, first + offset, bars, low, high, rng, busy)
            origin = plan.bar_start(first)
            cache[key] = [BeatNote(n.start_b - origin, *_rest(n)) for n in material]
        origin = plan.bar_start(first)
        notes += [BeatNote(n.start_b + origin, *_rest(n)) for n in cache[key]]
    return notes


def _rest(note: BeatNote) -> tuple[float, int, int]:
    return note.length_b, note.pitch, note.velocity
