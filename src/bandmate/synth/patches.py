"""Subtractive synthesizer patches in numpy, for synth basses, pads and chords.

A patch mixes three oscillators (saw, square, sine; the saw and square detuned in pairs),
runs them through a 2-pole low-pass filter whose cutoff follows a decaying envelope, and
shapes the result with an ADSR amplifier envelope. The filter envelope is rendered as a
crossfade between the signal low-passed at the closed cutoff and at the open one (two fixed
filters, vectorized), which sounds like a sweep at a fraction of a per-sample filter's cost.

`PATCHES` holds a handful of named starting points per role; `jitter_patch` varies one from
a generator, so songs get many different patches, each recorded in the manifest by its
parameters and the sha256 of their canonical JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal

from bandmate.synth.score import Part


@dataclass(frozen=True)
class Patch:
    """One synthesizer sound. Levels are linear, times in seconds, detune in cents."""

    name: str
    role: str  # bass | pad | chords
    saw: float  # oscillator mix
    square: float
    sine: float
    detune_cents: float  # the second saw/square is this far above the first
    cutoff_hz: float  # filter, closed
    env_cutoff_hz: float  # filter, fully open (at the note's start)
    filter_decay_s: float  # how fast it closes
    attack_s: float
    decay_s: float
    sustain: float  # level, 0..1
    release_s: float

    def record(self) -> dict[str, Any]:
        """The manifest's account: {file: `patch:NAME`, sha256 of the parameters, params}."""
        params = dataclasses.asdict(self)
        return {"kind": "patch", "file": f"patch:{self.name}", "sha256": patch_sha256(self),
                "patch": params}  # fmt: skip


def patch_sha256(patch: Patch) -> str:
    """sha256 of the patch's parameters as canonical JSON (sorted keys, floats rounded)."""
    params = {
        k: round(v, 6) if isinstance(v, float) else v for k, v in dataclasses.asdict(patch).items()
    }
    return hashlib.sha256(
        json.dumps(params, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


PATCHES: tuple[Patch, ...] = (
    Patch("saw-bass", "bass", 1.0, 0.0, 0.5, 6.0, 300.0, 2400.0, 0.15, 0.003, 0.2, 0.7, 0.05),
    Patch("square-bass", "bass", 0.0, 1.0, 0.4, 4.0, 250.0, 1600.0, 0.1, 0.002, 0.15, 0.6, 0.04),
    Patch("sub-bass", "bass", 0.15, 0.0, 1.0, 0.0, 200.0, 600.0, 0.3, 0.005, 0.3, 0.9, 0.08),
    Patch("acid-bass", "bass", 1.0, 0.3, 0.0, 3.0, 180.0, 3500.0, 0.08, 0.001, 0.1, 0.4, 0.03),
    Patch("pluck-bass", "bass", 0.6, 0.6, 0.3, 8.0, 220.0, 2000.0, 0.05, 0.001, 0.25, 0.2, 0.05),
    Patch("warm-pad", "pad", 1.0, 0.0, 0.3, 12.0, 900.0, 2500.0, 1.2, 0.4, 1.0, 0.8, 0.6),
    Patch("hollow-pad", "pad", 0.2, 1.0, 0.3, 9.0, 1200.0, 3000.0, 0.8, 0.3, 0.8, 0.7, 0.5),
    Patch("glass-pad", "pad", 0.5, 0.2, 1.0, 5.0, 2500.0, 6000.0, 0.5, 0.2, 0.6, 0.6, 0.8),
    Patch("string-pad", "pad", 1.0, 0.2, 0.0, 15.0, 1500.0, 4000.0, 1.5, 0.25, 1.2, 0.85, 0.4),
    Patch("poly-keys", "chords", 0.8, 0.4, 0.3, 7.0, 800.0, 5000.0, 0.25, 0.005, 0.6, 0.3, 0.3),
    Patch("synth-brass", "chords", 1.0, 0.1, 0.0, 10.0, 600.0, 3500.0, 0.35, 0.06, 0.4, 0.75, 0.2),
)


def jitter_patch(patch: Patch, rng: np.random.Generator) -> Patch:
    """`patch` with its parameters scaled by up to about +-30% (mix and times) from `rng`;
    the name gains a suffix so that the manifest tells the variants apart."""

    def vary(value: float, spread: float = 0.3) -> float:
        return float(value * np.exp(rng.uniform(-spread, spread)))

    tag = f"{int(rng.integers(16**4)):04x}"
    return dataclasses.replace(
        patch,
        name=f"{patch.name}-{tag}",
        saw=vary(patch.saw), square=vary(patch.square), sine=vary(patch.sine),
        detune_cents=vary(patch.detune_cents), cutoff_hz=vary(patch.cutoff_hz),
        env_cutoff_hz=vary(patch.env_cutoff_hz), filter_decay_s=vary(patch.filter_decay_s),
        attack_s=vary(patch.attack_s), decay_s=vary(patch.decay_s),
        sustain=min(vary(patch.sustain, 0.2), 1.0), release_s=vary(patch.release_s),
    )  # fmt: skip


def _oscillators(patch: Patch, hz: float, count: int, rate: int) -> np.ndarray:
    """The oscillator mix of one note: [count] float64, peak about 1."""
    t = np.arange(count) / rate
    out = patch.sine * np.sin(2 * np.pi * hz * t)
    for cents in (0.0, patch.detune_cents):
        phase = (hz * 2 ** (cents / 1200) * t) % 1.0
        out += 0.5 * patch.saw * (2 * phase - 1) + 0.5 * patch.square * np.sign(0.5 - phase)
    return out / max(patch.saw + patch.square + patch.sine, 1e-6)


def _envelope(patch: Patch, held: int, count: int, rate: int) -> np.ndarray:
    """ADSR amplitude [count]: attack, decay to sustain while held, then release."""
    t = np.arange(count) / rate
    attack = np.minimum(t / max(patch.attack_s, 1e-4), 1.0)
    decay = patch.sustain + (1 - patch.sustain) * np.exp(
        -np.maximum(t - patch.attack_s, 0) / max(patch.decay_s, 1e-4)
    )
    env = np.where(t < patch.attack_s, attack, decay)
    if held < count:
        level = env[max(held - 1, 0)]
        tail = np.arange(count - held) / rate
        env[held:] = level * np.exp(-tail * 5.0 / max(patch.release_s, 1e-3))
    return env


@dataclass(frozen=True)
class _Filters:
    closed: np.ndarray  # second-order sections
    opened: np.ndarray


def _filters(patch: Patch, rate: int) -> _Filters:
    nyquist = rate / 2 * 0.95
    opened = min(max(patch.env_cutoff_hz, patch.cutoff_hz), nyquist)
    return _Filters(
        signal.butter(2, min(patch.cutoff_hz, nyquist), fs=rate, output="sos"),
        signal.butter(2, opened, fs=rate, output="sos"),
    )


def render_patch(
    patch: Patch, part: Part, num_samples: int, sample_rate_hz: int, channels: int
) -> np.ndarray:
    """Play a pitched part on a synthesizer patch.

    Returns:
        audio [C, S] float32 (C = `channels`, S = `num_samples`), not normalized.
    """
    rate = sample_rate_hz
    filters = _filters(patch, rate)
    out = np.zeros(num_samples, dtype=np.float64)
    release = round(patch.release_s * rate)
    for note in part.notes:
        start = round(note.start_s * rate)
        if start >= num_samples:
            continue
        held = max(round((note.end_s - note.start_s) * rate), 1)
        count = min(held + release, num_samples - start)
        hz = 440.0 * 2 ** ((note.pitch - 69) / 12)
        raw = _oscillators(patch, hz, count, rate)
        sweep = np.exp(-np.arange(count) / rate / max(patch.filter_decay_s, 1e-3))
        tone = sweep * signal.sosfilt(filters.opened, raw) + (1 - sweep) * signal.sosfilt(
            filters.closed, raw
        )
        out[start : start + count] += (
            tone * _envelope(patch, held, count, rate) * (note.velocity / 127.0)
        )
    mono = out.astype(np.float32)
    if channels == 1:
        return mono[None, :]
    left, right = np.cos((part.pan + 1) * np.pi / 4), np.sin((part.pan + 1) * np.pi / 4)
    return np.stack([mono * left, mono * right]).astype(np.float32)
