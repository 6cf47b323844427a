"""Generation with an `events` checkpoint: note events on the input's beats, played by a
SoundFont, written as MIDI.

The input's beats are tracked once (madmom, as the judge panel does) and extended at the
tracked tempo before the first and after the last, so every window has a grid even where
the input rests. Each window is decoded under the grammar (tokens/events.py): every
sampled id is valid where it is drawn, and each step hears the input at the time its
events have reached. Windows overlap as for codec tokens; the previous window's notes in
the overlap are the forced start of the next, which keeps them and continues from them.

Letters: B candidates, L_s encoder ids, D model width, F_sem input frames.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from bandmate.errors import BandmateError
from bandmate.generate.sampling import SamplingConfig, sample
from bandmate.model.t5 import T5
from bandmate.synth.score import Note as TimedNote
from bandmate.synth.score import Part
from bandmate.tokens.events import (
    DRUM_PROGRAM,
    FAMILY_PROGRAMS,
    NUM_PROGRAMS,
    Grammar,
    Note,
    beat_seconds,
    frames_at,
    seconds_beats,
    shift_notes,
)
from bandmate.tokens.ids import EOS_ID, PAD_ID
from bandmate.tokens.layout import TokenLayout

log = logging.getLogger(__name__)
FALLBACK_BPM = 120.0  # the grid of an input whose beats cannot be tracked
# The fastest tempo of the training songs (`bandmate synth`: 60-180 BPM). madmom often
# tracks eighth notes as beats (a 101 BPM bass line read as 200 BPM in 3 of 48 validation
# windows); such a grid is halved, so that a window holds no more beats than training's.
MAX_BPM = 180.0
# General MIDI family names, for --program NAME=PROGRAM (drums: the kit number)
FAMILY_NAMES = (
    "piano", "chromatic", "organ", "guitar", "bass", "strings", "ensemble", "brass", "reed",
    "pipe", "lead", "pad", "effects", "ethnic", "percussive", "sfx", "drums",
)  # fmt: skip
DEFAULT_PROGRAMS = {**dict(enumerate(FAMILY_PROGRAMS)), 4: 33, DRUM_PROGRAM: 0}  # fingered bass


def target_families(manifest: Mapping[str, object]) -> tuple[int, ...]:
    """The instrument families a model may play, from its tokens' target spec: drums for
    a drum-set target, the bass family for a bass target, every family otherwise."""
    pair = manifest.get("pair")
    target = str(pair.get("target", "")) if isinstance(pair, dict) else ""
    if target in ("drum set", "drums"):
        return (DRUM_PROGRAM,)
    if target == "bass":
        return (4,)
    return tuple(range(NUM_PROGRAMS))


def parse_programs(settings: list[str]) -> dict[int, int]:
    """`--program NAME=PROGRAM` settings -> {family: General MIDI program}."""
    out: dict[int, int] = {}
    for item in settings:
        name, _, value = item.partition("=")
        if name not in FAMILY_NAMES or not value.isdigit() or not 0 <= int(value) < 128:
            raise BandmateError(
                f"--program {item}: give NAME=PROGRAM with NAME one of {', '.join(FAMILY_NAMES)} "
                "and PROGRAM 0-127"
            )
        out[FAMILY_NAMES.index(name)] = int(value)
    return out


def beat_grid(wav: np.ndarray, sample_rate_hz: int, duration_s: float) -> np.ndarray:
    """The input's beats [B] in seconds, extended at its tempo to cover
    [-1 beat, duration_s + 1 beat]; every other beat while they are faster than MAX_BPM;
    a 120 BPM grid from 0 where fewer than 4 are found."""
    from bandmate.metrics.mir import beat_times

    tracked = np.asarray(beat_times(wav, sample_rate_hz), dtype=np.float64)
    if len(tracked) < 4:
        log.info("fewer than 4 beats tracked: a %g BPM grid from 0 s", FALLBACK_BPM)
        tracked = np.arange(0.0, duration_s + 1.0, 60.0 / FALLBACK_BPM)
    while len(tracked) >= 8 and 60.0 / np.median(np.diff(tracked)) > MAX_BPM:
        tracked = tracked[::2]
    lo = int(np.floor(seconds_beats(tracked, np.array([0.0]))[0])) - 1
    hi = int(np.ceil(seconds_beats(tracked, np.array([duration_s]))[0])) + 1
    return beat_seconds(tracked, np.arange(lo, hi + 1, dtype=np.float64))


@dataclass(frozen=True)
class Window:
    """One window's place on the input's beat grid."""

    start_s: float
    first_beat: int  # index in the grid of the window's beat 0
    beats_s: np.ndarray  # the window's beats, seconds after start_s [B'] (B' >= 2)


def window_on_grid(grid: np.ndarray, start_s: float, seconds: float) -> Window:
    inside = np.flatnonzero((grid >= start_s - 0.02) & (grid < start_s + seconds))
    if len(inside) < 2:  # a window shorter than two beats: take the two around it
        inside = np.arange(max(0, int(np.searchsorted(grid, start_s)) - 1), len(grid))[:2]
    return Window(start_s, int(inside[0]), grid[inside] - start_s)


@torch.no_grad()
def sample_events(
    model: T5,
    layout: TokenLayout,
    encoder: torch.Tensor,
    window: Window,
    frame_rate_hz: float,
    sampling: SamplingConfig,
    generator: torch.Generator,
    families: tuple[int, ...],
    forced: list[np.ndarray] | None = None,
    prefill: bool = True,
) -> np.ndarray:
    """Decode one window's events for B candidates under the grammar.

    Args:
        encoder: encoder ids [B, L_s] (the input's semantic ids + EOS).
        forced: per candidate, the ids [P_b] it starts with (the overlap's notes, no EOS).
        prefill: feed the forced ids that every candidate shares in one decoder pass
            instead of one step each (same logits; every window after the first starts
            with the overlap's notes).
    Returns:
        ids int64 [B, L] (each row ends in EOS, or is cut at `layout.event_steps`).
    """
    b, device = encoder.shape[0], encoder.device
    guidance = sampling.guidance or 0.0
    if guidance > 0:  # classifier-free guidance: one doubled batch
        null = torch.from_numpy(layout.null_input()).to(device).expand(b, -1)
        encoder = torch.cat([encoder, null])
    memory = model.encode(encoder, (encoder != PAD_ID).long())
    steps = layout.event_steps
    cache = model.init_cache(memory, steps, per_step_inputs=True)
    projected = model.input_proj(memory.hidden) if model.input_proj is not None else None
    grammar = Grammar(
        layout.events, np.full(b, len(window.beats_s)), families, end_at_last_beat=True
    )
    copies = encoder.shape[0] // b  # 2 with guidance: every candidate twice

    def frames_now() -> np.ndarray:
        """Each candidate's input frame where its notes have reached [B]."""
        return frames_at(grammar.reached, window.beats_s, frame_rate_hz, layout.semantic_frames)

    def inputs_at(frames: list[np.ndarray]) -> torch.Tensor | None:
        """The input where each fed position's notes had reached: [B(x2), n, D]."""
        if projected is None:
            return None
        index = torch.from_numpy(np.tile(np.stack(frames, axis=1), (copies, 1))).to(device)
        return projected.gather(1, index[..., None].expand(-1, -1, projected.shape[-1]))

    prefix = forced_ids(forced, b)
    shared = int(np.cumprod((prefix >= 0).all(axis=0)).sum()) if prefill else 0
    shared = min(shared, steps - 1)  # at least one step is sampled
    fed, frames = np.full((b, 1), PAD_ID, dtype=np.int64), [frames_now()]
    out: list[np.ndarray] = []
    for ids in prefix[:, :shared].T:  # fed together with the next sampled step
        grammar.advance(ids)
        out.append(ids)
        fed = np.concatenate([fed, ids[:, None]], axis=1)
        frames.append(frames_now())
    for step in range(shared, steps):
        tokens = torch.from_numpy(fed).to(device).repeat(copies, 1)
        logits = model.decode_step(tokens, cache, inputs_at(frames))[:, -1].float()  # [B(x2), V]
        if guidance > 0:
            cond, uncond = logits[:b], logits[b:]
            logits = cond + guidance * (cond - uncond)
        valid = torch.from_numpy(grammar.allowed()).to(device)
        ids = sample(logits, valid, sampling, generator).cpu().numpy()
        if step < prefix.shape[1]:
            ids = np.where(prefix[:, step] >= 0, prefix[:, step], ids)
        if step == steps - 1:  # out of room: end here
            ids = np.where(grammar.pending | grammar.ended, ids, EOS_ID)
        grammar.advance(ids)
        out.append(ids)
        if grammar.ended.all():
            break
        fed, frames = ids[:, None], [frames_now()]
    return np.stack(out, axis=1)


def forced_ids(forced: list[np.ndarray] | None, b: int) -> np.ndarray:
    """Per-candidate forced starts -> int64 [B, P] (-1 where the id is sampled)."""
    prefixes = forced if forced is not None else [np.zeros(0, np.int64)] * b
    prefix = np.full((b, max(len(p) for p in prefixes)), -1, dtype=np.int64)
    for row, ids in enumerate(prefixes):
        prefix[row, : len(ids)] = ids
    return prefix


def window_notes(layout: TokenLayout, ids: np.ndarray, window: Window) -> list[Note]:
    """One candidate's window ids [L] -> notes in beats of the whole input's grid."""
    return shift_notes(layout.events.decode(ids), -window.first_beat)


def overlap_prefix(
    layout: TokenLayout, notes: list[Note], window: Window, grid_end_beat: int
) -> np.ndarray:
    """The ids that replay `notes` (grid beats) falling in [window beat 0, grid_end_beat)
    inside the window: the forced start of its decoding (no EOS)."""
    kept = [n for n in notes if window.first_beat <= n.onset_beats < grid_end_beat]
    ids = layout.events.encode(shift_notes(kept, window.first_beat), len(window.beats_s))
    return ids[:-1]


def to_parts(
    notes: list[Note], grid: np.ndarray, programs: Mapping[int, int], end_s: float
) -> list[Part]:
    """Notes in grid beats -> one `Part` per instrument family, in seconds, each family
    played by `programs` (default: DEFAULT_PROGRAMS); notes from `end_s` on (the input's
    end) are left out, and none rings past it."""
    parts: dict[int, Part] = {}
    for note in sorted(notes, key=lambda n: n.onset_beats):
        span = np.array([note.onset_beats, note.onset_beats + note.duration_beats])
        start, end = (float(t) for t in beat_seconds(grid, span))
        if start >= end_s:
            continue
        family = DRUM_PROGRAM if note.is_drum else note.program // 8
        if family not in parts:
            program = programs.get(family, DEFAULT_PROGRAMS[family])
            parts[family] = Part(FAMILY_NAMES[family], program, note.is_drum, FAMILY_NAMES[family])
        if note.is_drum:
            end = start + 0.2  # a hit rings out on its own; the key's release barely matters
        end = min(max(end, start + 0.02), end_s)
        parts[family].notes.append(TimedNote(start, end, note.pitch, note.velocity))
    return [parts[family] for family in sorted(parts)]


def require_player() -> None:
    """A one-line `BandmateError` unless tinysoundfont, which plays the notes, imports:
    checked when an events checkpoint loads, not after minutes of decoding."""
    import importlib.util

    if importlib.util.find_spec("tinysoundfont") is None:
        raise BandmateError(
            "an events checkpoint plays its notes with tinysoundfont: "
            "pip install --no-deps tinysoundfont==0.3.7"
        )


def render_parts(
    parts: list[Part], num_samples: int, sample_rate_hz: int, soundfont: str
) -> np.ndarray:
    """Mono audio [S] of the parts through the SoundFont (each part at its own level)."""
    from bandmate.synth.render import render_part

    out = np.zeros(num_samples, dtype=np.float32)
    for part in parts:
        out += render_part(part, num_samples, sample_rate_hz, 1, soundfont)[0]
    return out


def write_midi(path: str, parts: list[Part], grid: np.ndarray) -> None:
    """The parts as a MIDI file at the input's tempo (the median of its beat intervals),
    with notes at their times in seconds."""
    import pretty_midi

    from bandmate.io import atomic_path

    intervals = np.diff(grid)
    tempo = 60.0 / float(np.median(intervals)) if len(intervals) else FALLBACK_BPM
    midi = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for part in parts:
        instrument = pretty_midi.Instrument(part.program, is_drum=part.is_drum, name=part.name)
        for note in sorted(part.notes, key=lambda n: n.start_s):
            instrument.notes.append(
                pretty_midi.Note(
                    velocity=note.velocity, pitch=note.pitch, start=note.start_s, end=note.end_s
                )
            )
        midi.instruments.append(instrument)
    with atomic_path(path) as tmp:
        midi.write(str(tmp))
