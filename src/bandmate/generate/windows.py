"""Long inputs: overlapping windows of the model's clip length, stitched with cross-fades.

Window w starts at w * hop seconds (hop = clip - overlap). Its first `overlap` seconds
repeat the end of window w-1, and there the previous window's tokens are forced
(`decode.forced_prefix`), so the new window continues what was already played instead
of starting over; the audio of the overlap is then cross-faded linearly.
"""

from __future__ import annotations

import math

import numpy as np


def window_start_seconds(duration_s: float, clip_s: float, overlap_s: float) -> list[float]:
    """Start times (s) of the windows covering [0, duration_s); one when it fits in a clip."""
    if overlap_s < 0 or overlap_s >= clip_s:
        raise ValueError(f"overlap {overlap_s} s must be in [0, clip length {clip_s} s)")
    if duration_s <= clip_s:
        return [0.0]
    hop = clip_s - overlap_s
    count = math.ceil((duration_s - clip_s) / hop - 1e-9) + 1
    return [i * hop for i in range(count)]


def cut(wav: np.ndarray, start: int, length: int) -> np.ndarray:
    """wav[..., start:start+length], zero-padded at the end to exactly `length` samples."""
    piece = wav[..., start : start + length]
    pad = length - piece.shape[-1]
    if pad > 0:
        piece = np.pad(piece, [(0, 0)] * (piece.ndim - 1) + [(0, pad)])
    return piece


def stitch(out: np.ndarray, piece: np.ndarray, start: int, fade: int) -> None:
    """Add `piece` [B, N] into `out` [B, S] at `start`, cross-fading its first `fade` samples
    with what is already there (the previous window's tail). Modifies `out` in place."""
    end = min(start + piece.shape[-1], out.shape[-1])
    piece = piece[..., : end - start]
    fade = min(fade, piece.shape[-1], max(out.shape[-1] - start, 0))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[..., start : start + fade] *= 1.0 - ramp
        out[..., start : start + fade] += piece[..., :fade] * ramp
    out[..., start + fade : end] = piece[..., fade:]
