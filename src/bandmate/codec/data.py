"""Training audio for the codec: every audio file under a folder, resampled to the
codec's rate, held in memory, and cut into random fixed-length crops.

Letters: B batch, S samples.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bandmate.data.audio import load_mono
from bandmate.data.files import walk_files
from bandmate.errors import DataError

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
SILENCE_RMS = 1e-3  # about -60 dBFS: crops quieter than this teach the codec nothing


def find_audio_files(root: str | Path) -> list[Path]:
    """All audio files under `root` (recursively), sorted; DataError if there are none."""
    folder = Path(root)
    if not folder.is_dir():
        raise DataError(folder, "audio folder not found")
    files = sorted(p for p in walk_files(folder) if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise DataError(folder, f"no audio files ({', '.join(AUDIO_SUFFIXES)}) found")
    return files


def is_validation(path: Path, share: float) -> bool:
    """Stable file-level split: the same file is always on the same side."""
    return (zlib.crc32(path.name.encode()) % 1000) < share * 1000


@dataclass
class AudioPool:
    """Mono signals [S] float32 at one rate; crops are drawn length-weighted."""

    signals: list[np.ndarray]
    sample_rate_hz: int

    @property
    def seconds(self) -> float:
        return sum(len(s) for s in self.signals) / self.sample_rate_hz

    def crops(self, rng: np.random.Generator, count: int, length: int) -> np.ndarray:
        """`count` random crops of `length` samples, avoiding near-silence where the
        audio allows it. Returns [B, S] float32."""
        lengths = np.array([len(s) for s in self.signals], dtype=np.float64)
        weights = lengths / lengths.sum()
        out = np.zeros((count, length), dtype=np.float32)
        for row in range(count):
            for _attempt in range(8):
                signal = self.signals[int(rng.choice(len(self.signals), p=weights))]
                start = int(rng.integers(0, max(len(signal) - length, 0) + 1))
                crop = signal[start : start + length]
                if float(np.sqrt(np.mean(np.square(crop)))) > SILENCE_RMS:
                    break
            out[row, : len(crop)] = crop
        return out


def load_pools(
    root: str | Path, sample_rate_hz: int, valid_share: float = 0.05
) -> tuple[AudioPool, AudioPool]:
    """Read every audio file under `root` as mono at `sample_rate_hz` and split them by
    file into (train, valid). With fewer than 10 files both pools hold everything."""
    files = find_audio_files(root)
    signals = {path: load_mono(path, sample_rate_hz) for path in files}
    signals = {p: s for p, s in signals.items() if len(s) > 0}
    if not signals:
        raise DataError(Path(root), "all audio files are empty")
    valid = [p for p in signals if is_validation(p, valid_share)] if len(signals) >= 10 else []
    train = [p for p in signals if p not in valid] or list(signals)
    pools = (
        AudioPool([signals[p] for p in train], sample_rate_hz),
        AudioPool([signals[p] for p in (valid or train)], sample_rate_hz),
    )
    log.info(
        "training audio: %d files, %.1f min; validation: %d files, %.1f min",
        len(train),
        pools[0].seconds / 60,
        len(valid or train),
        pools[1].seconds / 60,
    )
    return pools
