"""From composed beats to played seconds: swing, timing and velocity jitter, MIDI tick grid;
and the varied render's replaying of a part (velocity curve, bass register).

Times are rounded to the tick grid of the MIDI file that is written beside the audio
(`TICKS_PER_BEAT`), so the audio is rendered from exactly the times the MIDI holds.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from bandmate.synth.score import BeatNote, Note

TICKS_PER_BEAT = 960
MIN_NOTE_S = 0.02


def swing_beat(beat: float, swing: float) -> float:
    """Delay the off-beat 8th of every beat: swing 0 = straight, 1/6 = triplet feel."""
    whole = math.floor(beat)
    frac = beat - whole
    if frac < 0.5:
        return whole + frac * (1 + 2 * swing)
    return whole + 0.5 + swing + (frac - 0.5) * (1 - 2 * swing)


def _no_overlap(notes: list[Note], monophonic: bool) -> list[Note]:
    """Cut each note where the next one of the same pitch (or any pitch, if monophonic) starts.

    Overlapping equal pitches are ambiguous in MIDI (which note-off ends which note), so
    they never reach the MIDI file or the synthesizer.
    """
    notes = sorted(notes, key=lambda n: (n.start_s, n.pitch))
    out: list[Note] = []
    last_of: dict[int, int] = {}
    for note in notes:
        keys = [k for k in ([-1] if monophonic else [note.pitch]) if k in last_of]
        for k in keys:
            prev = out[last_of[k]]
            if prev.end_s > note.start_s:
                out[last_of[k]] = Note(prev.start_s, note.start_s, prev.pitch, prev.velocity)
        last_of[-1 if monophonic else note.pitch] = len(out)
        out.append(note)
    return [n for n in out if n.end_s - n.start_s >= MIN_NOTE_S]


def perform(
    notes: list[BeatNote],
    tempo_bpm: float,
    duration_s: float,
    rng: np.random.Generator,
    swing: float = 0.0,
    timing_sd_s: float = 0.006,
    velocity_sd: float = 5.0,
    monophonic: bool = False,
    max_length_s: float | None = None,
) -> list[Note]:
    """Play composed notes: returns notes in seconds, humanized, on the MIDI tick grid.

    Notes starting within 50 ms of `duration_s` or later are dropped; the rest end by it.
    """
    tick_s = 60.0 / (tempo_bpm * TICKS_PER_BEAT)
    seconds_per_beat = 60.0 / tempo_bpm
    jitter = np.clip(rng.normal(0.0, timing_sd_s, len(notes)), -3 * timing_sd_s, 3 * timing_sd_s)
    velocity_shift = rng.normal(0.0, velocity_sd, len(notes))
    out = []
    for note, shift, dv in zip(notes, jitter, velocity_shift, strict=True):
        start = swing_beat(note.start_b, swing) * seconds_per_beat + float(shift)
        end = swing_beat(note.start_b + note.length_b, swing) * seconds_per_beat + float(shift)
        if max_length_s is not None:
            end = min(end, start + max_length_s)
        start = round(max(start, 0.0) / tick_s) * tick_s
        end = min(round(end / tick_s) * tick_s, duration_s)
        if start >= duration_s - 0.05:
            continue
        velocity = int(np.clip(round(note.velocity + dv), 1, 127))
        out.append(Note(start, end, note.pitch, velocity))
    return _no_overlap(out, monophonic)


# --- performance variety of `--timbres varied` (issue #34) -------------------------------

LOWEST_BASS, HIGHEST_BASS = 28, 67  # E1 .. G4: where a bass part may be moved by octaves
# A seed word of its own keeps these draws apart from composition, timbre and production.
PERFORMANCE_STREAM = 0x70657266


@dataclass(frozen=True)
class Variation:
    """How a varied render replays a composed part: a velocity curve and a register.

    `velocity_curve` is the exponent of v -> 127 * (v / 127) ** curve (below 1 louder and
    flatter dynamics, above 1 softer and steeper); `octave_shift` moves a bass part.
    """

    velocity_curve: float
    octave_shift: int  # semitones, a multiple of 12 (basses only; 0 elsewhere)

    def apply(self, notes: list[Note]) -> list[Note]:
        return [
            dataclasses.replace(
                note,
                pitch=note.pitch + self.octave_shift,
                velocity=int(
                    np.clip(round(127 * (note.velocity / 127) ** self.velocity_curve), 1, 127)
                ),
            )
            for note in notes
        ]


def draw_variation(rng: np.random.Generator, notes: list[Note], is_bass: bool) -> Variation:
    """A velocity curve for any part; for a bass part, an octave up (a quarter of the time)
    or down (a sixth) where the part stays within E1..G4."""
    curve = round(float(np.exp(rng.uniform(-0.4, 0.4))), 3)
    draw = float(rng.random())
    shift = 0
    if is_bass and notes:
        low, high = min(n.pitch for n in notes), max(n.pitch for n in notes)
        if draw < 0.25 and high + 12 <= HIGHEST_BASS:
            shift = 12
        elif draw > 5 / 6 and low - 12 >= LOWEST_BASS:
            shift = -12
    return Variation(curve, shift)
