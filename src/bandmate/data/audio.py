"""Audio I/O, resampling and mixing.

Arrays are float32 numpy of shape [C, S] (C channels, S samples) unless a name says mono
([S]). Reading goes through soundfile (wav/flac/ogg/mp3), resampling through soxr.
`audio_info` refuses a WAV or AIFF file whose data stops before the length its header
states; `check_audio` is what a recording must pass before anything is generated for it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

from bandmate.errors import DataError
from bandmate.io import atomic_path


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """(sample_rate_hz, num_samples, num_channels) of a file, read from its header only.

    Raises:
        DataError: the file is missing or unreadable, or (WAV, AIFF) holds fewer samples
            than its header states: libsndfile would quietly read what is there.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "audio file not found")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as error:
        raise DataError(path, f"unreadable audio ({_reason(error)})") from None
    rate, frames = int(info.samplerate), int(info.frames)
    stated = _stated_frames(path)
    if stated is not None and stated > frames:
        raise DataError(
            path,
            f"truncated audio: its header states {stated / rate:.2f} s, the file holds "
            f"{frames / rate:.2f} s",
        )
    return rate, frames, int(info.channels)


# WAV sample formats whose block is one frame: PCM, IEEE float, A-law, mu-law, extensible.
_FRAME_BLOCK_FORMATS = {1, 3, 6, 7, 0xFFFE}
_UNKNOWN_SIZES = {0, 0xFFFFFFFF}  # a streaming writer's "until the end of the file"


def _stated_frames(path: Path) -> int | None:
    """The frame count a WAV (RIFF/RIFX) or AIFF header states, None for other formats or
    when the header leaves it open."""
    with path.open("rb") as file:
        head = file.read(12)
        if len(head) < 12:
            return None
        if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
            return _wav_frames(file, "<" if head[:4] == b"RIFF" else ">")
        if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            return _aiff_frames(file)
    return None


def _chunks(file: BinaryIO, order: str) -> Iterator[tuple[bytes, int]]:
    """(chunk id, body size) of each chunk after a RIFF/FORM header, the file positioned
    at the body; bodies are padded to an even size."""
    while len(header := file.read(8)) == 8:
        name, size = header[:4], struct.unpack(f"{order}I", header[4:])[0]
        body = file.tell()
        yield name, size
        file.seek(body + size + (size & 1))


def _wav_frames(file: BinaryIO, order: str) -> int | None:
    block = 0
    for name, size in _chunks(file, order):
        if name == b"fmt " and size >= 16:
            tag, _, _, _, block = struct.unpack(f"{order}HHIIH", file.read(14))
            if tag not in _FRAME_BLOCK_FORMATS:
                return None
        elif name == b"data":
            return size // block if block and size not in _UNKNOWN_SIZES else None
    return None


def _aiff_frames(file: BinaryIO) -> int | None:
    for name, size in _chunks(file, ">"):
        if name == b"COMM" and size >= 6:
            return int(struct.unpack(">hI", file.read(6))[1])
    return None


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


def check_audio(
    path: str | Path, wav: np.ndarray, sample_rate_hz: int, min_seconds: float, silent_db: float
) -> None:
    """Refuse a recording nothing sensible can be made of, naming the file and why.

    Args:
        path: the file `wav` was read from (for the message).
        wav: its audio [C, S].
        sample_rate_hz: its rate.
        min_seconds: the shortest recording accepted.
        silent_db: a recording whose mono RMS is below this level (dBFS) counts as silent.
    Raises:
        DataError: a sample is NaN or infinite (checked first: one would make the level
            NaN and the file look silent), the recording is shorter than `min_seconds`,
            or it is silent.
    """
    bad = ~np.isfinite(wav)
    if bad.any():
        first = int(np.argmax(bad.any(axis=0))) / sample_rate_hz
        raise DataError(
            path,
            f"{int(bad.sum())} sample(s) are not numbers (NaN or infinity), the first at "
            f"{first:.3f} s",
        )
    seconds = wav.shape[-1] / sample_rate_hz
    if seconds < min_seconds:
        raise DataError(path, f"too short ({seconds:.2f} s; at least {min_seconds:g} s needed)")
    level = rms_db(to_mono(wav))
    if level < silent_db:
        shown = "digital silence" if level == float("-inf") else f"{level:.0f} dBFS"
        raise DataError(path, f"input is silent ({shown}, below {silent_db:g} dBFS)")


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
