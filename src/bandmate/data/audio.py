"""Audio I/O, resampling and mixing.

Arrays are float32 numpy of shape [C, S] (C channels, S samples) unless a name says mono
([S]). Reading goes through soundfile (wav/flac/ogg/mp3), resampling through soxr.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from bandmate.errors import DataError
from bandmate.io import atomic_path


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """(sample_rate_hz, num_samples, num_channels) of a file, read from its header only."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "audio file not found")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as error:
        raise DataError(path, f"unreadable audio ({_reason(error)})") from None
    return int(info.samplerate), int(info.frames), int(info.channels)


def read_audio(
    path: str | Path, start_s: float = 0.0, duration_s: float | None = None
) -> tuple[np.ndarray, int]:
    """Read (part of) an audio file.

    Args:
        path: any format soundfile reads (wav, flac, ogg, mp3).
        start_s: offset in seconds.
        duration_s: length to read; None reads to the end.
    Returns:
        (wav [C, S] float32, sample_rate_hz).
    """
    sample_rate_hz, num_samples, _ = audio_info(path)
    start = round(start_s * sample_rate_hz)
    stop = num_samples if duration_s is None else start + round(duration_s * sample_rate_hz)
    try:
        data, _ = sf.read(
            str(path), start=start, stop=min(stop, num_samples), dtype="float32", always_2d=True
        )
    except (sf.LibsndfileError, RuntimeError) as error:
        raise DataError(path, f"unreadable or truncated audio ({_reason(error)})") from None
    if data.shape[0] < min(stop, num_samples) - start:
        raise DataError(path, "truncated audio: fewer samples than its header says")
    return np.ascontiguousarray(data.T), sample_rate_hz


def to_mono(wav: np.ndarray) -> np.ndarray:
    """[C, S] -> [S] by averaging channels (a [S] input is returned as is)."""
    return wav if wav.ndim == 1 else wav.mean(axis=0, dtype=np.float32)


def resample(wav: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Resample [S] or [C, S] audio with soxr (high quality); a no-op when rates match."""
    if from_hz == to_hz:
        return wav.astype(np.float32, copy=False)
    if wav.ndim == 1:
        return soxr.resample(wav, from_hz, to_hz, quality="HQ").astype(np.float32)
    out = soxr.resample(wav.T, from_hz, to_hz, quality="HQ")
    return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(-1, wav.shape[0]).T)


def load_mono(
    path: str | Path, sample_rate_hz: int, start_s: float = 0.0, duration_s: float | None = None
) -> np.ndarray:
    """Read a file as mono audio at `sample_rate_hz`. Returns [S] float32."""
    wav, file_hz = read_audio(path, start_s, duration_s)
    return resample(to_mono(wav), file_hz, sample_rate_hz)


def mix_audio_stems(stems: Sequence[np.ndarray]) -> np.ndarray:
    """Sum stems of equal shape into one signal (the thesis's label = sum of target stems).

    Args:
        stems: arrays of identical shape [S] or [C, S].
    Returns:
        their sum, same shape, float32.
    """
    if not stems:
        raise ValueError("mix_audio_stems needs at least one stem")
    shapes = {s.shape for s in stems}
    if len(shapes) != 1:
        raise ValueError(f"stems differ in shape: {sorted(shapes)}")
    return np.asarray(np.sum(np.stack(stems), axis=0, dtype=np.float32))


def rms_db(wav: np.ndarray) -> float:
    """Root-mean-square level in dBFS (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0
    return 20.0 * float(np.log10(rms)) if rms > 0 else float("-inf")


def peak_normalize(wav: np.ndarray, peak: float = 0.99) -> np.ndarray:
    """Scale down (never up) so that |wav| <= peak: a mix never clips."""
    top = float(np.max(np.abs(wav))) if wav.size else 0.0
    return wav if top <= peak else (wav * (peak / top)).astype(np.float32)


def write_wav(
    path: str | Path, wav: np.ndarray, sample_rate_hz: int, subtype: str = "PCM_16"
) -> None:
    """Write [S] or [C, S] audio as WAV, atomically (temporary name, then rename)."""
    data = wav if wav.ndim == 1 else wav.T
    with atomic_path(path) as tmp:
        sf.write(str(tmp), data, sample_rate_hz, subtype=subtype, format="WAV")


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__
