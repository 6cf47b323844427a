"""What a rendered song is made of: parts of timed notes, before any audio exists.

Times are in seconds (the renderer's and MIDI writer's unit); composers work in beats
(quarter notes) and convert with `Score.seconds_per_beat` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Note:
    """One note: onset and release in seconds, MIDI pitch (drum key on drum parts), velocity."""

    start_s: float
    end_s: float
    pitch: int
    velocity: int


@dataclass
class Part:
    """One instrument, rendered to one stem.

    Attributes:
        name: role in the arrangement (`drums`, `bass`, `chords`, `lead`, `alto`, ...).
        program: General MIDI program, 0-based (the drum kit number on drum parts).
        is_drum: rendered on the GM drum channel.
        label: MedleyDB-taxonomy instrument label written to the metadata.
        component: MedleyDB `component` field (`melody`, `bass` or '').
        notes: the notes, any order.
        gain_db: level of the stem relative to the others.
        pan: -1 (left) .. 1 (right); used only for stereo renders.
    """

    name: str
    program: int
    is_drum: bool
    label: str
    component: str = ""
    notes: list[Note] = field(default_factory=list)
    gain_db: float = 0.0
    pan: float = 0.0


@dataclass
class Score:
    """A whole song: its parts plus what the manifest says about it."""

    title: str
    source: str  # `band`, `chorale` or `folk`
    origin: str  # `procedural` or the music21 corpus file it came from
    genre: str
    tempo_bpm: float
    key: str  # e.g. `E minor`
    meter: str  # e.g. `6/8`
    style: str
    duration_s: float
    sections: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm


@dataclass(frozen=True)
class BeatNote:
    """A note while composing: onset and length in beats (quarter notes) from the song start."""

    start_b: float
    length_b: float
    pitch: int
    velocity: int
