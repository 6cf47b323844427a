"""Bass lines that follow the plan's chords: roots, fifths, octaves, syncopation, walking."""

from __future__ import annotations

import numpy as np

from bandmate.synth.plan import Bar, SongPlan
from bandmate.synth.score import BeatNote
from bandmate.synth.theory import Chord, Meter

LOW, HIGH = 28, 55  # E1 .. G3
SYNCOPATIONS = ("x..x..x.x..x....", "x.....x.x.......", "x..x....x..x..x.", "x.x...x...x.x...")
FUNK = "x..xo.x.o.xo..x."  # x root, o octave


def bass_root(chord: Chord) -> int:
    """The chord root in the bass register (E1..D#2)."""
    return LOW + (chord.root - LOW) % 12


def chord_at(bar: Bar, step: int, meter: Meter) -> Chord:
    """The chord sounding at grid step `step` of `bar`."""
    return bar.chords[step * len(bar.chords) // meter.steps_per_bar]


def _onsets(pattern: str, meter: Meter, rng: np.random.Generator) -> list[tuple[int, str]]:
    """Onset steps of a pattern: a named rhythm, or pulses / 8ths / pattern strings."""
    steps = meter.steps_per_bar
    if pattern in ("root", "root_fifth", "walking"):
        return [(p, "x") for p in meter.pulses]
    if pattern in ("eighths", "octaves"):
        return [(s, "x" if (s // 2) % 2 == 0 else "o") for s in range(0, steps, 2)]
    if pattern == "whole":
        return [(0, "x")] + ([(steps // 2, "x")] if rng.random() < 0.3 else [])
    text = FUNK if pattern == "funk" else SYNCOPATIONS[int(rng.integers(len(SYNCOPATIONS)))]
    text = (text * 2)[:steps]
    return [(s, m) for s, m in enumerate(text) if m != "."]


def _pitch(pattern: str, mark: str, i: int, chord: Chord, next_root: int) -> int:
    root = bass_root(chord)
    fifth = root + (chord.pcs[2] - chord.pcs[0]) % 12
    if pattern == "root_fifth" and i % 2 == 1:
        return fifth if fifth <= HIGH else fifth - 12
    if pattern in ("octaves", "funk") and mark == "o":
        return root + 12
    return root


def _walk(bar: Bar, meter: Meter, next_root: int, rng: np.random.Generator) -> list[int]:
    """One walking-bass pitch per pulse: root, chord/scale tones, chromatic approach."""
    pitches = []
    pulses = meter.pulses
    for i, step in enumerate(pulses):
        chord = chord_at(bar, step, meter)
        root = bass_root(chord)
        if i == 0 or (step * len(bar.chords)) % meter.steps_per_bar == 0:
            pitches.append(root)
        elif i == len(pulses) - 1:
            pitches.append(next_root + (1 if rng.random() < 0.5 else -1))
        else:
            tones = chord.pitches(pitches[-1] - 7, pitches[-1] + 7)
            tones = [t for t in tones if t != pitches[-1] and LOW <= t <= HIGH] or [root]
            pitches.append(tones[int(rng.integers(len(tones)))])
    return pitches


def bass_part(plan: SongPlan, rng: np.random.Generator) -> list[BeatNote]:
    """The whole bass part of a song, in beats."""
    meter = plan.meter
    pattern = str(plan.style.bass_patterns[int(rng.integers(len(plan.style.bass_patterns)))])
    step_b = meter.beats_per_step
    staccato = 0.5 if rng.random() < 0.3 else 0.9
    notes: list[BeatNote] = []
    for index, bar in enumerate(plan.bars):
        following = plan.bars[index + 1] if index + 1 < len(plan.bars) else plan.bars[0]
        next_root = bass_root(following.chords[0])
        onsets = _onsets(pattern, meter, rng)
        walk = _walk(bar, meter, next_root, rng) if pattern == "walking" else []
        ends = [s for s, _ in onsets[1:]] + [meter.steps_per_bar]
        for i, ((step, mark), end) in enumerate(zip(onsets, ends, strict=True)):
            chord = chord_at(bar, step, meter)
            pitch = walk[i] if walk else _pitch(pattern, mark, i, chord, next_root)
            length = (end - step) * step_b * (0.95 if pattern in ("whole", "walking") else staccato)
            velocity = 100 if step in meter.pulses else 84
            start = plan.bar_start(index) + step * step_b
            notes.append(BeatNote(start, length, int(np.clip(pitch, LOW, HIGH)), velocity))
    return notes
