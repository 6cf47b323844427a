"""One song's tokens, and the chunk file that makes `bandmate tokenize` resumable.

While a run works, every finished song is written atomically to
`DIR/.work/<split>/<song>.npz`; a rerun skips songs whose chunk exists, and the split
arrays are assembled from the chunks at the end. Chunks hold only plain arrays (a JSON
string for the skip counts), so they load without pickle.
Letters: N clips, S samples, K codebooks, F frames.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bandmate.data.audio import resample
from bandmate.data.clips import Clip, ClipConfig, SkipCounter, iter_clips
from bandmate.data.pairs import Pair
from bandmate.errors import DataError
from bandmate.io import atomic_path
from bandmate.tokens.interfaces import AcousticCodec, SemanticTokenizer

WORK_DIR = ".work"


@dataclass(frozen=True)
class FrameCounts:
    """Frames per clip, fixed for a whole token set."""

    semantic: int  # F_sem, e.g. 500 for 10 s at 50 Hz
    acoustic: int  # F_ac, e.g. 750 for 10 s at 75 Hz


@dataclass(frozen=True)
class SongTokens:
    """A song's clips as tokens (int16), with where each clip starts and what was skipped."""

    input_semantic: np.ndarray  # [N, F_sem]
    target_semantic: np.ndarray  # [N, F_sem]
    target_acoustic: np.ndarray  # [N, K, F_ac]
    start_s: np.ndarray  # [N] float64
    skips: dict[str, int]  # skipped clips (or the whole song) by reason
    target_events: np.ndarray | None = None  # [N, L] events targets only
    beats_s: np.ndarray | None = None  # [N, B] events targets only

    def __len__(self) -> int:
        return int(self.start_s.shape[0])


def chunk_path(out: Path, split: str, song_id: str) -> Path:
    """`out/.work/<split>/<safe name>.npz`; the hash keeps distinct ids distinct."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", song_id)[:80]
    digest = hashlib.sha1(song_id.encode()).hexdigest()[:8]
    return out / WORK_DIR / split / f"{safe}-{digest}.npz"


def write_chunk(path: Path, tokens: SongTokens) -> None:
    """Write a chunk atomically (a killed run leaves no partial chunk)."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        arrays = {
            "input_semantic": tokens.input_semantic,
            "target_semantic": tokens.target_semantic,
            "target_acoustic": tokens.target_acoustic,
            "start_s": tokens.start_s,
            "skips": np.array(json.dumps(tokens.skips, sort_keys=True)),
            **events_arrays(tokens),
        }
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle


def read_chunk(path: Path) -> SongTokens:
    """Load a chunk written by `write_chunk`; `DataError` when it is unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return SongTokens(
                input_semantic=data["input_semantic"],
                target_semantic=data["target_semantic"],
                target_acoustic=data["target_acoustic"],
                start_s=data["start_s"],
                skips=json.loads(str(data["skips"])),
                target_events=data.get("target_events"),
                beats_s=data.get("beats_s"),
            )
    except (OSError, ValueError, KeyError) as error:
        raise DataError(path, f"corrupt work chunk ({error}); delete it and rerun") from None


def events_arrays(tokens: SongTokens) -> dict[str, np.ndarray]:
    """The events target's arrays of a chunk, if it has them."""
    if tokens.target_events is None or tokens.beats_s is None:
        return {}
    return {"target_events": tokens.target_events, "beats_s": tokens.beats_s}


def exact_length(wav: np.ndarray, num_samples: int) -> np.ndarray:
    """Crop or zero-pad [S] to `num_samples` (resampling can be off by a sample)."""
    return (
        wav[:num_samples]
        if wav.shape[0] >= num_samples
        else np.pad(wav, (0, num_samples - wav.shape[0]))
    )


def tokenize_clips(
    clips: list[Clip],
    clip_seconds: float,
    codec: AcousticCodec,
    semantic: SemanticTokenizer,
    frames: FrameCounts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch of clips -> (input_semantic [N, F_sem], target_semantic [N, F_sem],
    target_acoustic [N, K, F_ac]), int16."""
    sem_samples = round(clip_seconds * semantic.sample_rate_hz)
    ac_samples = round(clip_seconds * codec.sample_rate_hz)
    pairs = [clip.at_rate(semantic.sample_rate_hz) for clip in clips]
    sem_in = torch.from_numpy(np.stack([exact_length(p[0], sem_samples) for p in pairs]))
    sem_out = torch.from_numpy(np.stack([exact_length(p[1], sem_samples) for p in pairs]))
    targets = [resample(c.target, c.sample_rate_hz, codec.sample_rate_hz) for c in clips]
    wav = np.stack([exact_length(t, ac_samples) for t in targets])  # only targets are coded
    ids = semantic.encode(torch.cat([sem_in, sem_out]))  # [2N, F_sem]
    codes = codec.encode(torch.from_numpy(wav))  # [N, K, F]
    if ids.shape[1] < frames.semantic or codes.shape[2] < frames.acoustic:
        raise ValueError(
            f"tokenizers gave {ids.shape[1]} semantic / {codes.shape[2]} acoustic frames, "
            f"expected {frames.semantic} / {frames.acoustic}"
        )
    sem = ids[:, : frames.semantic].numpy().astype(np.int16)
    n = len(clips)
    return sem[:n], sem[n:], codes[..., : frames.acoustic].numpy().astype(np.int16)


def tokenize_pair(
    pair: Pair,
    clip_config: ClipConfig,
    codec: AcousticCodec,
    semantic: SemanticTokenizer,
    frames: FrameCounts,
    batch_clips: int = 8,
) -> SongTokens:
    """All clips of one pair as tokens. A song whose audio is broken yields no clips and
    its reason (the run goes on; the summary names it)."""
    skips = SkipCounter()
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    starts: list[float] = []
    batch: list[Clip] = []
    try:
        for clip in iter_clips(pair, clip_config, skips):
            batch.append(clip)
            if len(batch) == batch_clips:
                parts.append(
                    tokenize_clips(batch, clip_config.clip_seconds, codec, semantic, frames)
                )
                starts += [c.start_s for c in batch]
                batch = []
        if batch:
            parts.append(tokenize_clips(batch, clip_config.clip_seconds, codec, semantic, frames))
            starts += [c.start_s for c in batch]
    except DataError as error:
        return empty_song(codec.num_codebooks, frames, {f"unreadable song: {error}": 1})
    if not parts:
        return empty_song(codec.num_codebooks, frames, dict(skips.counts))
    return SongTokens(
        input_semantic=np.concatenate([p[0] for p in parts]),
        target_semantic=np.concatenate([p[1] for p in parts]),
        target_acoustic=np.concatenate([p[2] for p in parts]),
        start_s=np.asarray(starts, dtype=np.float64),
        skips=dict(Counter(skips.counts)),
    )


def empty_song(num_codebooks: int, frames: FrameCounts, skips: dict[str, int]) -> SongTokens:
    """A song that gave no clips (all silent, too short, or unreadable)."""
    return SongTokens(
        input_semantic=np.zeros((0, frames.semantic), np.int16),
        target_semantic=np.zeros((0, frames.semantic), np.int16),
        target_acoustic=np.zeros((0, num_codebooks, frames.acoustic), np.int16),
        start_s=np.zeros(0, np.float64),
        skips=skips,
    )
