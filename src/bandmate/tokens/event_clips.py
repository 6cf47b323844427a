"""One song's clips with `events` targets: the input's semantic ids, and the target stems'
MIDI notes as event ids on the song's beat grid (tokens/events.py).

The beat grid is the tempo map of the target's MIDI (a synth song's own beats, Slakh's
tempo map). A clip's beats are those inside it; its events are the target's notes from
its first beat on. A dataset without MIDI beside its target stems cannot make this target.
Letters: N clips, F_sem frames, L event ids, B beats.
"""

from __future__ import annotations

import numpy as np
import torch

from bandmate.data.clips import Clip, ClipConfig, SkipCounter, iter_clips
from bandmate.data.pairs import Pair
from bandmate.errors import DataError
from bandmate.tokens.chunks import FrameCounts, SongTokens, exact_length
from bandmate.tokens.events import (
    MAX_BEATS,
    EventVocab,
    Note,
    read_midi_notes,
    seconds_beats,
    shift_notes,
    window_beats,
)
from bandmate.tokens.ids import PAD_ID
from bandmate.tokens.interfaces import SemanticTokenizer


def pair_notes(pair: Pair) -> tuple[list[Note], np.ndarray]:
    """The target stems' notes in beats, and the song's beat times [B] in seconds.

    Raises:
        DataError: a target stem has no MIDI beside it, or its MIDI is unreadable.
    """
    notes: list[Note] = []
    beats: np.ndarray | None = None
    for stem in pair.target_stems:
        path = stem.midi_path
        if path is None:
            raise DataError(stem.path, "no MIDI beside this stem; the events target needs one")
        stem_notes, stem_beats = read_midi_notes(path, beats)
        beats = stem_beats if beats is None else beats
        notes += stem_notes
    assert beats is not None  # a pair has at least one target stem
    return notes, beats


def clip_events(
    vocab: EventVocab, notes: list[Note], beats: np.ndarray, start_s: float, seconds: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """(event ids [L] ending in EOS, the clip's beats [B'] in seconds after its start) of
    one clip, or None when fewer than two beats fall in it."""
    clip_beats = window_beats(beats, start_s, seconds)
    if len(clip_beats) < 2:
        return None
    first = float(seconds_beats(beats, np.array([start_s + clip_beats[0]]))[0])
    return vocab.encode(shift_notes(notes, round(first)), len(clip_beats)), clip_beats


def tokenize_event_pair(
    pair: Pair,
    clip_config: ClipConfig,
    semantic: SemanticTokenizer,
    frames: FrameCounts,
    vocab: EventVocab,
    max_events: int,
) -> SongTokens:
    """All clips of one pair with events targets ([N, max_events] ids, PAD after EOS;
    clips whose events do not fit are skipped and counted)."""
    skips = SkipCounter()
    try:
        notes, beats = pair_notes(pair)
        clips: list[tuple[Clip, np.ndarray, np.ndarray]] = []
        for clip in iter_clips(pair, clip_config, skips):
            found = clip_events(vocab, notes, beats, clip.start_s, clip_config.clip_seconds)
            if found is None:
                skips.add("fewer than 2 beats")
            elif len(found[0]) > max_events:
                skips.add(f"more than {max_events} event ids")
            else:
                clips.append((clip, *found))
    except DataError as error:
        return empty_event_song(frames, max_events, {f"unreadable song: {error}": 1})
    if not clips:
        return empty_event_song(frames, max_events, dict(skips.counts))
    events = np.full((len(clips), max_events), PAD_ID, dtype=np.int16)
    beat_rows = np.full((len(clips), MAX_BEATS), np.nan, dtype=np.float32)
    for row, (_, ids, clip_beats) in enumerate(clips):
        events[row, : len(ids)] = ids
        beat_rows[row, : len(clip_beats)] = clip_beats
    return SongTokens(
        input_semantic=input_ids([c for c, _, _ in clips], clip_config, semantic, frames),
        target_semantic=np.zeros((len(clips), 0), np.int16),
        target_acoustic=np.zeros((len(clips), 0, 0), np.int16),
        start_s=np.asarray([c.start_s for c, _, _ in clips], dtype=np.float64),
        skips=dict(skips.counts),
        target_events=events,
        beats_s=beat_rows,
    )


def input_ids(
    clips: list[Clip], config: ClipConfig, semantic: SemanticTokenizer, frames: FrameCounts,
    batch_clips: int = 8,
) -> np.ndarray:  # fmt: skip
    """The clips' input semantic ids, int16 [N, F_sem]."""
    samples = round(config.clip_seconds * semantic.sample_rate_hz)
    out = []
    for lo in range(0, len(clips), batch_clips):
        wav = [
            exact_length(c.at_rate(semantic.sample_rate_hz)[0], samples)
            for c in clips[lo : lo + batch_clips]
        ]
        ids = semantic.encode(torch.from_numpy(np.stack(wav)))  # [n, F_sem']
        if ids.shape[1] < frames.semantic:
            raise ValueError(f"tokenizer gave {ids.shape[1]} frames, expected {frames.semantic}")
        out.append(ids[:, : frames.semantic].numpy().astype(np.int16))
    return np.concatenate(out)


def empty_event_song(frames: FrameCounts, max_events: int, skips: dict[str, int]) -> SongTokens:
    """A song that gave no clips."""
    return SongTokens(
        input_semantic=np.zeros((0, frames.semantic), np.int16),
        target_semantic=np.zeros((0, 0), np.int16),
        target_acoustic=np.zeros((0, 0, 0), np.int16),
        start_s=np.zeros(0, np.float64),
        skips=skips,
        target_events=np.zeros((0, max_events), np.int16),
        beats_s=np.zeros((0, MAX_BEATS), np.float32),
    )
