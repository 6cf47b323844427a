"""Stem levels and the mix: per-stem gain, no clipping, stems that sum exactly to the mix.

Stems are written as 16-bit PCM and the mix is the integer sum of the quantized stems, so
reading the stems back and adding them gives the mix sample for sample.
"""

from __future__ import annotations

import numpy as np

STEM_LEVEL_DB = -20.0  # loudness of a stem at gain 0 dB, measured where it plays
MIX_PEAK = 0.89  # peak of the mix, at most; leaves room for the stems' rounding
FRAME_S = 0.05
FADE_S = 0.02


def active_rms(wav: np.ndarray, sample_rate_hz: int) -> float:
    """RMS over the frames where a stem plays (within 40 dB of its loudest frame).

    Args:
        wav: [C, S] audio.
    """
    frame = max(int(FRAME_S * sample_rate_hz), 1)
    mono = wav.mean(axis=0)
    count = mono.size // frame
    if count == 0:
        return float(np.sqrt(np.mean(mono.astype(np.float64) ** 2))) if mono.size else 0.0
    power = np.mean(mono[: count * frame].reshape(count, frame).astype(np.float64) ** 2, axis=1)
    loud = power[power > power.max() * 1e-4]
    return float(np.sqrt(loud.mean())) if loud.size else 0.0


def level_stems(
    stems: list[np.ndarray], gains_db: list[float], sample_rate_hz: int
) -> list[np.ndarray]:
    """Bring each stem to `STEM_LEVEL_DB + gain`, then scale all so that neither the mix nor
    any stem peaks above MIX_PEAK.

    Args:
        stems: [C, S] float32 each (all the same shape).
        gains_db: the level of each stem relative to the others.
    Returns:
        the levelled stems, [C, S] float32, with a short fade at the end.
    """
    out = []
    for wav, gain_db in zip(stems, gains_db, strict=True):
        rms = active_rms(wav, sample_rate_hz)
        target = 10 ** ((STEM_LEVEL_DB + gain_db) / 20)
        out.append(wav * (target / rms if rms > 0 else 0.0))
    mix_peak = float(np.max(np.abs(np.sum(out, axis=0)))) if out else 0.0
    stem_peak = max((float(np.max(np.abs(wav))) for wav in out), default=0.0)
    # The mix must not clip, and neither may a stem (stems can cancel in the mix).
    scale = min(1.0, MIX_PEAK / max(mix_peak, 1e-9), MIX_PEAK / max(stem_peak, 1e-9))
    fade = np.linspace(1.0, 0.0, min(int(FADE_S * sample_rate_hz), stems[0].shape[-1]))
    for wav in out:
        wav *= scale
        # Stems can only grow quiet at the very end, where the song is cut.
        wav[:, wav.shape[-1] - fade.size :] *= fade
    return [wav.astype(np.float32) for wav in out]


def quantize(wav: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16, rounding to nearest."""
    return np.clip(np.round(wav * 32767.0), -32768, 32767).astype(np.int16)


def integer_mix(stems: list[np.ndarray]) -> np.ndarray:
    """Sum of int16 stems; raises if it would not fit in int16 (a bug in levelling)."""
    total = np.sum([s.astype(np.int32) for s in stems], axis=0)
    if total.size and (total.max() > 32767 or total.min() < -32768):
        raise AssertionError("mix of quantized stems overflows 16 bits")
    return total.astype(np.int16)
