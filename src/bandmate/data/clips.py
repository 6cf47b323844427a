"""Clips: fixed-length windows of a pair's input and target audio.

A song's input stems are summed into the input signal and its target stems into the
target (the thesis's `mix_audio_stems`), then cut into windows of `clip_seconds` every
`hop_seconds`. Windows where either side is silent are skipped and counted by reason.
Arrays are float32 [S] (mono, the default) or [C, S].
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from bandmate.data.audio import audio_info, mix_audio_stems, read_audio, resample, rms_db, to_mono
from bandmate.data.pairs import Pair
from bandmate.data.songs import Stem
from bandmate.errors import DataError


@dataclass(frozen=True)
class ClipConfig:
    clip_seconds: float = 10.0  # window length (the thesis: 10 s)
    hop_seconds: float | None = None  # start a window every hop (default: clip_seconds)
    silence_db: float = -50.0  # skip a window whose input or target RMS is below this (dBFS)
    mono: bool = True  # average channels; False keeps [C, S]


@dataclass
class SkipCounter:
    """Skipped clips (or songs) by reason, for the summary a long run prints."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str, n: int = 1) -> None:
        self.counts[reason] += n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Clip:
    """One window of a pair: input and target audio at the stems' own sample rate."""

    song_id: str
    split: str
    start_s: float
    sample_rate_hz: int
    input: np.ndarray  # [S] (or [C, S])
    target: np.ndarray  # [S] (or [C, S])

    def at_rate(self, sample_rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
        """(input, target) resampled with soxr to `sample_rate_hz`."""
        return (
            resample(self.input, self.sample_rate_hz, sample_rate_hz),
            resample(self.target, self.sample_rate_hz, sample_rate_hz),
        )


def check_stems(stems: Sequence[Stem]) -> tuple[int, int]:
    """All stems must share one sample rate and one length. Returns (rate_hz, num_samples)."""
    files = [path for stem in stems for path in stem.files]
    first_path, (rate, length) = files[0], audio_info(files[0])[:2]
    for path in files[1:]:
        other_rate, other_length, _ = audio_info(path)
        if other_rate != rate:
            raise DataError(
                path, f"sample rate {other_rate} Hz differs from {first_path.name} ({rate} Hz)"
            )
        # MedleyDB stems are sample-exact; a few samples of padding are tolerated.
        if abs(other_length - length) > rate // 100:
            raise DataError(
                path,
                f"length {other_length} samples differs from {first_path.name} ({length})",
            )
    return rate, length


def load_mix(stems: Sequence[Stem], num_samples: int, mono: bool = True) -> np.ndarray:
    """Sum of the stems' audio, trimmed/padded to `num_samples`. Returns [S] or [C, S]."""
    signals = []
    for path in (path for stem in stems for path in stem.files):
        wav, _ = read_audio(path)
        wav = to_mono(wav)[None] if mono else wav
        wav = wav[:, :num_samples]
        signals.append(np.pad(wav, ((0, 0), (0, num_samples - wav.shape[1]))))
    channels = max(s.shape[0] for s in signals)
    mix = mix_audio_stems([np.broadcast_to(s, (channels, num_samples)) for s in signals])
    return mix[0] if mono else mix


def window_start_samples(num_samples: int, clip_samples: int, hop_samples: int) -> range:
    """Start samples of every full window (a partial tail window is dropped)."""
    return range(0, max(num_samples - clip_samples + 1, 0), max(hop_samples, 1))


def iter_clips(pair: Pair, config: ClipConfig, skips: SkipCounter | None = None) -> Iterator[Clip]:
    """The pair's clips, skipping silent windows (counted in `skips`).

    Raises:
        DataError: a stem is missing, unreadable, or differs in rate/length from the others.
    """
    rate, length = check_stems((*pair.input_stems, *pair.target_stems))
    source = load_mix(pair.input_stems, length, config.mono)
    target = load_mix(pair.target_stems, length, config.mono)
    clip = round(config.clip_seconds * rate)
    hop_seconds = config.hop_seconds or config.clip_seconds
    starts = window_start_samples(length, clip, round(hop_seconds * rate))
    if not starts and skips is not None:
        skips.add(f"song shorter than {config.clip_seconds:g} s")
    for start in starts:
        piece_in, piece_out = source[..., start : start + clip], target[..., start : start + clip]
        if rms_db(piece_in) < config.silence_db:
            reason = "silent input"
        elif rms_db(piece_out) < config.silence_db:
            reason = "silent target"
        else:
            yield Clip(pair.song.song_id, pair.split, start / rate, rate, piece_in, piece_out)
            continue
        if skips is not None:
            skips.add(reason)
