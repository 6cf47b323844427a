"""The `events` target: an accompaniment as note events on the input's beat grid.

The codec-token layouts (layout.py) predict audio; this one predicts notes, as MT3 does for
transcription with the same T5, so that a sampler can play them and a musician can edit
them as MIDI. Times are positions on a beat grid, not seconds: a window's beats are those
of the input (the synth song's own beats in training, beats tracked in the input at
generation), and a note's onset is `beat + tick / TICKS_PER_BEAT` after the window's first
beat. Twelve ticks a beat hold sixteenths (3), eighth triplets (4) and swung eighths (8);
finer offsets (microtiming) are rounded to the nearest tick. Tempo changes need nothing
special: the grid follows the beats wherever they fall.

Ids, after the specials (0 PAD, 1 EOS) and the input's semantic range (the encoder's ids,
as in layout.py), in this order (`EventVocab` holds the offsets):

    BEAT b      b in [0, MAX_BEATS)     time := beat b, tick 0 of the window
    TICK t      t in [1, TICKS_PER_BEAT)  time := tick t of the current beat
    PROGRAM f   f in [0, 17)            instrument: General MIDI family f (16 = drums)
    VELOCITY v  v in [0, VELOCITY_BINS)  loudness of the notes that follow
    PITCH p     p in [0, 128)           a pitched note-on (a DURATION follows)
    DRUM k      k in DRUM_KEYS          a drum hit (General MIDI percussion key)
    DURATION d  d in [1, MAX_DURATION_TICKS]  the pitched note's length in ticks

A window's notes, sorted by (onset, program, pitch), become: the time tokens when the
onset moves (BEAT when the beat changes, TICK when the tick is not 0), PROGRAM when the
instrument changes, VELOCITY when the loudness bin changes, then the note, then EOS. The
grammar (`Grammar`) admits only sequences of that form: time never runs backwards, beats
stay inside the window, a note needs a program and a velocity first, a DURATION follows
every PITCH and nothing else, drum keys only under the drum program and pitches only
under the others. Round trip `notes -> tokens -> notes` is exact at this resolution
(onset to the tick, velocity to its bin, duration to the tick up to MAX_DURATION_TICKS).

Letters: N sequences, L tokens, B beats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.errors import DataError
from bandmate.tokens.ids import EOS_ID, NUM_SPECIALS, PAD_ID

TICKS_PER_BEAT = 12
MAX_BEATS = 64  # beats per window: 21 s at 180 BPM
VELOCITY_BINS = 8
MAX_DURATION_TICKS = 48  # 4 beats; longer notes are cut there
DRUM_KEYS = tuple(range(35, 82))  # General MIDI percussion, Acoustic Bass Drum .. Open Triangle
DRUM_PROGRAM = 16  # the family index of drum parts
NUM_PROGRAMS = 17  # 16 General MIDI families + drums
# The instrument a family is played with when the user names none: the family's first
# General MIDI program (piano, chromatic percussion, organ, guitar, bass, strings, ...).
FAMILY_PROGRAMS = tuple(8 * family for family in range(16))


@dataclass(frozen=True)
class Note:
    """One note of a part, in beats after the window's (or the song's) first beat."""

    onset_beats: float
    duration_beats: float
    pitch: int  # MIDI key (General MIDI percussion key for drums)
    velocity: int  # 1..127
    program: int  # General MIDI program 0..127 (ignored for drums)
    is_drum: bool = False

    @property
    def family(self) -> int:
        return DRUM_PROGRAM if self.is_drum else self.program // 8


def velocity_bin(velocity: int) -> int:
    return min(VELOCITY_BINS - 1, max(0, (int(velocity) - 1) * VELOCITY_BINS // 127))


def bin_velocity(index: int) -> int:
    """The velocity a bin plays at: its centre."""
    return round((index + 0.5) * 127 / VELOCITY_BINS) + 1 if index < VELOCITY_BINS - 1 else 120


@dataclass(frozen=True)
class EventVocab:
    """Id ranges of the event tokens; `offset` is the first id after the semantic range."""

    offset: int

    @property
    def beat(self) -> int:
        return self.offset

    @property
    def tick(self) -> int:  # TICK t is id tick + t - 1 (t >= 1)
        return self.beat + MAX_BEATS

    @property
    def program(self) -> int:
        return self.tick + TICKS_PER_BEAT - 1

    @property
    def velocity(self) -> int:
        return self.program + NUM_PROGRAMS

    @property
    def pitch(self) -> int:
        return self.velocity + VELOCITY_BINS

    @property
    def drum(self) -> int:
        return self.pitch + 128

    @property
    def duration(self) -> int:  # DURATION d is id duration + d - 1 (d >= 1)
        return self.drum + len(DRUM_KEYS)

    @property
    def end(self) -> int:
        """One past the last event id: the vocabulary size of a model using it."""
        return self.duration + MAX_DURATION_TICKS

    # ----- notes -> tokens -------------------------------------------------------------
    def encode(self, notes: list[Note], num_beats: int) -> np.ndarray:
        """A window's notes -> ids [L] ending in EOS. Notes before beat 0, at or after
        `num_beats`, or of a drum key General MIDI does not have, are left out."""
        ids: list[int] = []
        beat, tick, family, velocity = -1, 0, -1, -1
        for position, note in sorted(
            ((round(n.onset_beats * TICKS_PER_BEAT), n) for n in notes),
            key=lambda item: (item[0], item[1].family, item[1].pitch, item[1].velocity),
        ):
            b, t = divmod(position, TICKS_PER_BEAT)
            if not 0 <= b < min(num_beats, MAX_BEATS):
                continue
            if note.is_drum and note.pitch not in DRUM_KEYS:
                continue
            if b != beat:
                ids.append(self.beat + b)
                beat, tick = b, 0
            if t != tick:
                ids.append(self.tick + t - 1)
                tick = t
            if note.family != family:
                ids.append(self.program + note.family)
                family = note.family
            if velocity_bin(note.velocity) != velocity:
                velocity = velocity_bin(note.velocity)
                ids.append(self.velocity + velocity)
            if note.is_drum:
                ids.append(self.drum + note.pitch - DRUM_KEYS[0])
            else:
                ticks = round(note.duration_beats * TICKS_PER_BEAT)
                ids += [
                    self.pitch + note.pitch,
                    self.duration + min(max(ticks, 1), MAX_DURATION_TICKS) - 1,
                ]
        return np.asarray([*ids, EOS_ID], dtype=np.int64)

    # ----- tokens -> notes -------------------------------------------------------------
    def decode(self, ids: np.ndarray) -> list[Note]:
        """Ids [L] -> notes (stops at EOS or PAD; tokens out of grammar are skipped). A
        pitched note's program is its family's first (FAMILY_PROGRAMS); the player
        chooses the instrument (generate/events.py)."""
        notes: list[Note] = []
        beat, tick, family, velocity = 0, 0, -1, bin_velocity(VELOCITY_BINS // 2)
        pending: tuple[int, float] | None = None  # a PITCH waiting for its DURATION
        for raw in np.asarray(ids).tolist():
            kind, value = self.kind_of(int(raw))
            if kind in ("eos", "pad"):
                break
            onset = beat + tick / TICKS_PER_BEAT
            if kind == "duration" and pending is not None:
                pitch, start = pending
                program = FAMILY_PROGRAMS[family]
                notes.append(Note(start, value / TICKS_PER_BEAT, pitch, velocity, program))
            pending = None
            if kind == "beat":
                beat, tick = value, 0
            elif kind == "tick":
                tick = value
            elif kind == "program":
                family = value
            elif kind == "velocity":
                velocity = bin_velocity(value)
            elif kind == "pitch" and 0 <= family < DRUM_PROGRAM:
                pending = (value, onset)
            elif kind == "drum" and family == DRUM_PROGRAM:
                notes.append(Note(onset, 1 / TICKS_PER_BEAT, value, velocity, 0, is_drum=True))
        return notes

    def kind_of(self, token: int) -> tuple[str, int]:
        """(kind, value) of one id: kinds pad, eos, semantic, beat, tick, program,
        velocity, pitch, drum, duration; the value as in the module docstring."""
        if token == PAD_ID:
            return "pad", 0
        if token == EOS_ID:
            return "eos", 0
        for kind, lo, hi, base in self._ranges():
            if lo <= token < hi:
                return kind, token - lo + base
        return "semantic", token - NUM_SPECIALS

    def _ranges(self) -> tuple[tuple[str, int, int, int], ...]:
        """(kind, first id, end id, value of the first id) of each event range."""
        return (
            ("beat", self.beat, self.tick, 0),
            ("tick", self.tick, self.program, 1),
            ("program", self.program, self.velocity, 0),
            ("velocity", self.velocity, self.pitch, 0),
            ("pitch", self.pitch, self.drum, 0),
            ("drum", self.drum, self.duration, DRUM_KEYS[0]),
            ("duration", self.duration, self.end, 1),
        )

    def onsets_beats(self, ids: np.ndarray) -> np.ndarray:
        """The time (beats after the window's first beat) each prefix of `ids` [L] has
        reached: float64 [L + 1], entry i after i tokens (-1 before the first BEAT)."""
        walk = Grammar(self, np.array([MAX_BEATS]), tuple(range(NUM_PROGRAMS)))
        out = [walk.reached[0]]
        for token in np.asarray(ids).tolist():
            walk.advance(np.array([token]))
            out.append(walk.reached[0])
        return np.asarray(out, dtype=np.float64)


class Grammar:
    """The ids each of N sequences may take next (module docstring), stepped token by
    token: the constrained decoder's mask, and the test of a target's validity."""

    def __init__(
        self,
        vocab: EventVocab,
        num_beats: np.ndarray,
        families: tuple[int, ...],
        end_at_last_beat: bool = False,
    ):
        """num_beats: int [N], beats in each window; families: the programs allowed;
        end_at_last_beat: EOS only once the time has reached the window's last beat (for
        decoding: a model that learned how many beats windows usually hold would otherwise
        stop early in a window of more, and leave its end silent)."""
        self.vocab = vocab
        self.end_at_last_beat = end_at_last_beat
        self.num_beats = np.minimum(np.asarray(num_beats, dtype=np.int64), MAX_BEATS)
        n = len(self.num_beats)
        self.families = np.zeros(NUM_PROGRAMS, dtype=bool)
        self.families[list(families)] = True
        self.beat = np.full(n, -1)
        self.tick = np.zeros(n, dtype=np.int64)
        self.family = np.full(n, -1)
        self.velocity = np.full(n, -1)
        self.pending = np.zeros(n, dtype=bool)  # a PITCH waits for its DURATION
        self.ended = np.zeros(n, dtype=bool)

    @property
    def reached(self) -> np.ndarray:
        """The time each sequence has reached, in beats: float [N] (-1 before a BEAT)."""
        return np.where(self.beat >= 0, self.beat + self.tick / TICKS_PER_BEAT, -1.0)

    def allowed(self) -> np.ndarray:
        """Bool [N, vocab.end]: the ids each sequence may take now."""
        v, n = self.vocab, len(self.beat)
        mask = np.zeros((n, v.end), dtype=bool)
        rows = np.arange(n)[:, None]
        beats = np.arange(MAX_BEATS)[None, :]
        mask[:, v.beat : v.tick] = (beats > self.beat[:, None]) & (beats < self.num_beats[:, None])
        ticks = np.arange(1, TICKS_PER_BEAT)[None, :]
        mask[:, v.tick : v.program] = (self.beat[:, None] >= 0) & (ticks > self.tick[:, None])
        programs = np.arange(NUM_PROGRAMS)[None, :]
        mask[:, v.program : v.velocity] = self.families[None, :] & (
            programs != self.family[:, None]
        )
        bins = np.arange(VELOCITY_BINS)[None, :]
        mask[:, v.velocity : v.pitch] = bins != self.velocity[:, None]
        ready = (self.beat >= 0) & (self.velocity >= 0)
        mask[:, v.pitch : v.drum] = (ready & (self.family >= 0) & (self.family < DRUM_PROGRAM))[
            :, None
        ]
        mask[:, v.drum : v.duration] = (ready & (self.family == DRUM_PROGRAM))[:, None]
        mask[:, EOS_ID] = (self.beat >= self.num_beats - 1) | (not self.end_at_last_beat)
        # a pending PITCH admits only its DURATION; an ended sequence only PAD
        mask[self.pending] = False
        mask[rows[self.pending, 0], v.duration : v.end] = True
        mask[self.ended] = False
        mask[self.ended, PAD_ID] = True
        return mask

    def advance(self, ids: np.ndarray) -> None:
        """Take one id per sequence: ids int [N]."""
        for row, raw in enumerate(np.asarray(ids).tolist()):
            kind, value = self.vocab.kind_of(int(raw))
            self.pending[row] = kind == "pitch"
            if kind in ("eos", "pad"):
                self.ended[row] = True
            elif kind == "beat":
                self.beat[row], self.tick[row] = value, 0
            elif kind == "tick":
                self.tick[row] = value
            elif kind == "program":
                self.family[row] = value
            elif kind == "velocity":
                self.velocity[row] = value

    def accepts(self, ids: np.ndarray) -> np.ndarray:
        """Whether each of N sequences ids [N, L] (PAD after EOS) is valid from here:
        bool [N]. Steps the grammar to the end."""
        ok = np.ones(len(self.beat), dtype=bool)
        rows = np.arange(len(self.beat))
        for column in np.asarray(ids).T:
            ok &= self.allowed()[rows, column]
            self.advance(column)
        return ok & self.ended


def beat_seconds(beat_times_s: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Positions in beats -> seconds on a grid of beat times [B] (B >= 2): linear between
    beats, the first and last intervals' tempo outside them."""
    times = np.asarray(beat_times_s, dtype=np.float64)
    index = np.arange(len(times), dtype=np.float64)
    out = np.interp(beats, index, times)
    before, after = beats < 0, beats > index[-1]
    out[before] = times[0] + beats[before] * (times[1] - times[0])
    out[after] = times[-1] + (beats[after] - index[-1]) * (times[-1] - times[-2])
    return out


def seconds_beats(beat_times_s: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """The inverse of `beat_seconds`: times [M] in seconds -> positions in beats."""
    times = np.asarray(beat_times_s, dtype=np.float64)
    index = np.arange(len(times), dtype=np.float64)
    out = np.interp(seconds, times, index)
    first, last = times[1] - times[0], times[-1] - times[-2]
    before, after = seconds < times[0], seconds > times[-1]
    out[before] = (seconds[before] - times[0]) / first
    out[after] = index[-1] + (seconds[after] - times[-1]) / last
    return out


def query_frames(
    vocab: EventVocab, ids: np.ndarray, beat_times_s: np.ndarray, frame_rate_hz: float,
    num_frames: int,
) -> np.ndarray:  # fmt: skip
    """The input frame each decoder step sounds with (`T5Config.aligned_input`): step i
    reads the time the first i tokens reached (frame 0 before the first BEAT).

    Args:
        ids: a window's target ids [L].
        beat_times_s: the window's beats, seconds after its start [B] (B >= 2).
        num_frames: F_sem; frames are clipped to [0, F_sem).
    Returns:
        int64 [L] (step i's frame, for the decoder input that precedes token i).
    """
    return frames_at(vocab.onsets_beats(ids)[:-1], beat_times_s, frame_rate_hz, num_frames)


def frames_at(
    reached: np.ndarray, beat_times_s: np.ndarray, frame_rate_hz: float, num_frames: int
) -> np.ndarray:
    """Positions in beats [M] (-1: before the first beat) -> input frames int64 [M]."""
    seconds = np.where(reached < 0, 0.0, beat_seconds(beat_times_s, np.maximum(reached, 0)))
    return np.clip(np.floor(seconds * frame_rate_hz + 0.5), 0, num_frames - 1).astype(np.int64)


def window_beats(beat_times_s: np.ndarray, start_s: float, seconds: float) -> np.ndarray:
    """The beats of a song [B] that fall in [start_s, start_s + seconds), relative to
    start_s (a beat up to 20 ms early still counts as the window's first)."""
    times = np.asarray(beat_times_s, dtype=np.float64) - start_s
    return times[(times >= -0.02) & (times < seconds)][:MAX_BEATS]


def read_midi_notes(
    path: Path, beat_times_s: np.ndarray | None = None
) -> tuple[list[Note], np.ndarray]:
    """A MIDI file's notes in beats of its own tempo map (or of `beat_times_s`), and its
    beat times [B] in seconds. `DataError` for an unreadable file."""
    import pretty_midi

    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as error:  # pretty_midi/mido raise many kinds for bad files
        raise DataError(path, f"unreadable MIDI file ({error})") from None
    beats = np.asarray(beat_times_s if beat_times_s is not None else midi.get_beats())
    if len(beats) < 2:
        end = max(midi.get_end_time(), 1.0)
        beats = np.arange(0.0, end + 0.5, 0.5)  # no tempo map: 120 BPM
    notes = []
    for instrument in midi.instruments:
        for n in instrument.notes:
            onset, offset = seconds_beats(beats, np.array([n.start, n.end]))
            notes.append(
                Note(float(onset), float(offset - onset), n.pitch, n.velocity,
                     instrument.program, instrument.is_drum)
            )  # fmt: skip
    return notes, beats


def shift_notes(notes: list[Note], beats: float) -> list[Note]:
    """Notes moved `beats` earlier (a window's first beat becomes 0)."""
    return [
        Note(n.onset_beats - beats, n.duration_beats, n.pitch, n.velocity, n.program, n.is_drum)
        for n in notes
    ]


def to_dict(vocab: EventVocab) -> dict[str, Any]:
    return {
        "offset": vocab.offset, "ticks_per_beat": TICKS_PER_BEAT, "max_beats": MAX_BEATS,
        "velocity_bins": VELOCITY_BINS, "max_duration_ticks": MAX_DURATION_TICKS,
    }  # fmt: skip
