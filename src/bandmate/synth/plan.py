"""A song plan: key, meter, tempo and the chord of every bar, grouped in sections.

The plan is what all parts of a procedural song agree on; each part (drums, bass,
chords, lead) is then composed from it independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from bandmate.synth.styles import STYLES, Style
from bandmate.synth.theory import METERS, PROGRESSIONS, Chord, Key, Meter

T = TypeVar("T")

# Song forms: (section, bars) in order; a song repeats its form until it is long enough.
FORMS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("intro", 2), ("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("outro", 4)),
    (("intro", 4), ("verse", 4), ("chorus", 4), ("verse", 4), ("chorus", 4), ("bridge", 4)),
    (("verse", 8), ("chorus", 8), ("bridge", 4), ("chorus", 8)),
    (("intro", 2), ("a", 8), ("a", 8), ("b", 8), ("a", 8)),
    (("intro", 1), ("verse", 4), ("prechorus", 2), ("chorus", 4), ("verse", 4), ("chorus", 4)),
)


@dataclass(frozen=True)
class Bar:
    """One bar of the plan."""

    section: str
    chords: tuple[Chord, ...]  # one per harmonic step, evenly spread over the bar
    first_in_section: bool
    last_in_section: bool


@dataclass(frozen=True)
class SongPlan:
    """Everything the parts of one song share."""

    key: Key
    meter: Meter
    tempo_bpm: float
    style: Style
    swing: float  # 0 = straight; 1/6 = triplet swing of the 8th notes
    bars: tuple[Bar, ...]

    @property
    def sections(self) -> list[str]:
        return [bar.section for bar in self.bars if bar.first_in_section]

    def bar_start(self, index: int) -> float:
        """Beat at which bar `index` starts."""
        return index * self.meter.beats_per_bar

    @property
    def total_beats(self) -> float:
        return len(self.bars) * self.meter.beats_per_bar


def pick(rng: np.random.Generator, items: Sequence[T]) -> T:
    """One item, uniformly (works for tuples of tuples, unlike rng.choice)."""
    return items[int(rng.integers(len(items)))]


def pick_weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One name, with probability proportional to its weight (names sorted first)."""
    names = sorted(weights)
    p = np.array([weights[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def draw_tempo(rng: np.random.Generator, low: int, high: int, meter: Meter) -> float:
    """A quarter-note tempo in [low, high] BPM.

    In compound meters (6/8, 12/8, 9/8) the range is that of the felt dotted-quarter
    pulse, kept at most 120 so that the quarter-note tempo stays at most 180.
    """
    if len(meter.pulses) > 1 and meter.pulses[1] - meter.pulses[0] == 6:
        high = min(high, 120)
        return float(round(int(rng.integers(min(low, high), high + 1)) * 1.5))
    return float(rng.integers(low, high + 1))


def choose_key(rng: np.random.Generator, modes: tuple[str, ...]) -> Key:
    """Any of the 12 tonics, in one of `modes`."""
    return Key(tonic=int(rng.integers(12)), mode=pick(rng, modes))


def section_chords(
    rng: np.random.Generator, key: Key, bars: int, per_bar: int, style: Style
) -> list[tuple[Chord, ...]]:
    """Chords of one section: a progression of the style (or the key's mode), looped."""
    degrees = pick(rng, style.progressions or PROGRESSIONS[key.mode])
    seventh = bool(rng.random() < style.sevenths)
    steps = [key.chord(degrees[i % len(degrees)], seventh) for i in range(bars * per_bar)]
    return [tuple(steps[b * per_bar : (b + 1) * per_bar]) for b in range(bars)]


def plan_song(rng: np.random.Generator, min_seconds: float, style: Style | None = None) -> SongPlan:
    """A random procedural song plan at least `min_seconds` seconds long.

    Args:
        rng: the song's own generator (all choices come from it).
        min_seconds: the song length to cover, in seconds.
        style: a fixed style, or None for a random one.
    """
    style = style or STYLES[int(rng.integers(len(STYLES)))]
    meter = METERS[pick_weighted(rng, style.meters)]
    tempo = draw_tempo(rng, *style.tempo_bpm, meter)
    key = choose_key(rng, style.modes)
    swing = float(rng.uniform(*style.swing)) if meter.name in ("4/4", "3/4", "2/4") else 0.0
    # Slow songs sometimes change chords twice a bar (not a style with its own bar-by-bar form).
    fast_changes = not style.progressions and meter.beats_per_bar >= 4 and tempo < 100
    per_bar = 2 if fast_changes and rng.random() < 0.3 else 1
    form = pick(rng, style.forms or FORMS)
    chords_of: dict[str, list[tuple[Chord, ...]]] = {}
    bars: list[Bar] = []
    seconds_per_bar = meter.beats_per_bar * 60.0 / tempo
    while len(bars) * seconds_per_bar < min_seconds:
        for name, count in form:
            # Repeated sections reuse their chords, as songs do.
            if name not in chords_of or len(chords_of[name]) != count:
                chords_of[name] = section_chords(rng, key, count, per_bar, style)
            for i, chords in enumerate(chords_of[name]):
                bars.append(Bar(name, chords, i == 0, i == count - 1))
    return SongPlan(key, meter, tempo, style, swing, tuple(bars))
