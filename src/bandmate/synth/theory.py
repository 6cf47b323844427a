"""Keys, scales, chords and meters: the little music theory the composers need.

Pitches are MIDI numbers (60 = middle C); pitch classes are 0..11 (0 = C).
"""

from __future__ import annotations

from dataclasses import dataclass

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Semitone steps of each mode above its tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}

# Chord progressions as 0-based scale degrees, one chord per harmonic step, per mode.
PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": (
        (0, 4, 5, 3),  # I V vi IV
        (0, 3, 4, 3),  # I IV V IV
        (5, 3, 0, 4),  # vi IV I V
        (0, 5, 3, 4),  # I vi IV V
        (1, 4, 0, 0),  # ii V I I
        (0, 3, 0, 4),  # I IV I V
        (0, 2, 3, 4),  # I iii IV V
        (0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4),  # twelve-bar blues
    ),
    "minor": (
        (0, 6, 5, 6),  # i VII VI VII
        (0, 3, 4, 0),  # i iv v i
        (0, 5, 2, 6),  # i VI III VII
        (0, 3, 6, 2),  # i iv VII III
        (0, 5, 3, 4),  # i VI iv v
        (0, 0, 3, 3, 0, 0, 4, 4),
    ),
    "dorian": ((0, 3), (0, 3, 0, 6), (0, 1, 3, 0)),
    "mixolydian": ((0, 6, 3, 0), (0, 6, 0, 3), (0, 3, 6, 3)),
}


@dataclass(frozen=True)
class Key:
    """A tonic pitch class and a mode."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def scale_pcs(self) -> tuple[int, ...]:
        return tuple((self.tonic + step) % 12 for step in SCALES[self.mode])

    def chord(self, degree: int, seventh: bool = False) -> Chord:
        """The diatonic triad (or seventh chord) built on a 0-based scale degree."""
        scale = self.scale_pcs
        size = 4 if seventh else 3
        pcs = tuple(scale[(degree + 2 * i) % 7] for i in range(size))
        return Chord(root=pcs[0], pcs=pcs)

    def scale_pitches(self, low: int, high: int) -> list[int]:
        """All scale pitches in [low, high]."""
        pcs = set(self.scale_pcs)
        return [p for p in range(low, high + 1) if p % 12 in pcs]


@dataclass(frozen=True)
class Chord:
    """Root pitch class and all pitch classes (root first)."""

    root: int
    pcs: tuple[int, ...]

    def pitches(self, low: int, high: int) -> list[int]:
        """All chord tones in [low, high]."""
        return [p for p in range(low, high + 1) if p % 12 in self.pcs]


@dataclass(frozen=True)
class Meter:
    """A time signature and the drum grid that plays it.

    Attributes:
        name: e.g. `6/8`.
        beats_per_bar: bar length in quarter notes.
        steps_per_bar: drum-grid steps per bar (16ths, or triplet 8ths for swung feels).
        pulses: grid steps of the felt beats; chords and bass move on these.
    """

    name: str
    beats_per_bar: float
    steps_per_bar: int
    pulses: tuple[int, ...]

    @property
    def beats_per_step(self) -> float:
        return self.beats_per_bar / self.steps_per_bar


METERS: dict[str, Meter] = {
    "4/4": Meter("4/4", 4.0, 16, (0, 4, 8, 12)),
    "3/4": Meter("3/4", 3.0, 12, (0, 4, 8)),
    "2/4": Meter("2/4", 2.0, 8, (0, 4)),
    "6/8": Meter("6/8", 3.0, 12, (0, 6)),
    "12/8": Meter("12/8", 6.0, 24, (0, 6, 12, 18)),
    "5/4": Meter("5/4", 5.0, 20, (0, 4, 8, 12, 16)),
    "7/8": Meter("7/8", 3.5, 14, (0, 4, 8)),
    "9/8": Meter("9/8", 4.5, 18, (0, 6, 12)),
}
# Time signatures played on another meter's grid (same bar length).
METER_ALIASES = {"2/2": "4/4", "C": "4/4"}


def meter_of(name: str, beats_per_bar: float) -> Meter:
    """The meter of a time signature; unknown ones get a plain grid of quarter-note pulses."""
    name = METER_ALIASES.get(name, name)
    if name in METERS and METERS[name].beats_per_bar == beats_per_bar:
        return METERS[name]
    steps = max(round(beats_per_bar * 4), 1)
    return Meter(name, beats_per_bar, steps, tuple(range(0, steps, 4)))


def nearest(pitches: list[int], target: float) -> int:
    """The pitch of `pitches` closest to `target` (lowest on ties)."""
    return min(pitches, key=lambda p: (abs(p - target), p))
