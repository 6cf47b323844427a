"""The test clips an evaluation runs on, and their shuffled-accompaniment baseline."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bandmate.data.clips import Clip, ClipConfig, SkipCounter, iter_clips
from bandmate.data.datasets import scan_dataset
from bandmate.data.pairs import Pair, PairSpec, build_pair
from bandmate.errors import BandmateError, DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestClip:
    """A test clip with its shuffled baseline: the target of a clip of another song."""

    clip: Clip
    shuffled: np.ndarray  # [S] at clip.sample_rate_hz (resampled when the songs differ)
    shuffled_song: str


def _round_robin(iterators: list[Iterator[Clip]]) -> Iterator[Clip]:
    """One clip of each song in turn, so a small N still spans many songs."""
    for batch in itertools.zip_longest(*iterators):
        yield from (clip for clip in batch if clip is not None)


def test_pairs(dataset: str, root: str | Path, spec: PairSpec, split: str = "test") -> list[Pair]:
    """Pairs of `split` for the checkpoint's preset: the held-out test split by default, or
    `all` for a dataset no song of which was trained on (e.g. a synth set of another seed)."""
    songs, _ = scan_dataset(dataset, root)
    pairs = [
        p for s in songs if isinstance(p := build_pair(s, spec), Pair) and split in (p.split, "all")
    ]
    if len(pairs) < 2:
        raise BandmateError(
            f"{root}: {len(pairs)} {split} song(s) with an input and a target for "
            f"{spec.input} -> {spec.target}; need at least 2 (another song's "
            "accompaniment is the shuffled baseline)"
        )
    return pairs


def select_clips(
    pairs: list[Pair], config: ClipConfig, count: int, skips: SkipCounter
) -> list[TestClip]:
    """Up to `count` clips, round-robin over songs, each with a shuffled baseline."""

    def song_clips(pair: Pair) -> Iterator[Clip]:
        try:
            yield from iter_clips(pair, config, skips)
        except DataError as error:
            skips.add(f"unreadable song ({error.problem})")
            log.warning("skipping %s: %s", pair.song.song_id, error)

    clips = list(itertools.islice(_round_robin([song_clips(p) for p in pairs]), count))
    songs = sorted({c.song_id for c in clips})
    if len(songs) < 2:
        raise BandmateError(
            f"only {len(clips)} usable clip(s) from {len(songs)} song(s); need "
            "clips of at least 2 songs"
        )
    out = []
    for index, clip in enumerate(clips):
        # The next clip (cyclically) of a different song: deterministic, never the same song.
        other = next(c for c in clips[index + 1 :] + clips[:index] if c.song_id != clip.song_id)
        _, shuffled = other.at_rate(clip.sample_rate_hz)
        out.append(TestClip(clip, shuffled, other.song_id))
    return out
