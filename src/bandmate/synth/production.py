"""Production variety: a drawn effect chain per stem (pedalboard), a room, noise and hum.

Each stem of a `--timbres varied` song gets its own chain, drawn from a generator seeded by
[seed, song, PRODUCTION_STREAM, part position]: a high-pass, an EQ (shelves and a peak), sometimes
compression, distortion (basses more often), chorus (harmonic parts), delay, then a room,
either pedalboard's reverb or a synthesized impulse response (an exponentially decaying
noise tail, convolved with scipy), and last a low floor of noise and mains hum. The chain
is recorded in the manifest as [{effect, parameters...}] in the order applied.

Each stem's level (on top of the composer's gain) and pan are drawn from the same generator.
Only stems are processed, never the mix: the mix stays the integer sum of the quantized
stems (synth/mixing.py), which a mix-bus effect would break. Levels stay with
`mixing.level_stems`, which brings each processed stem to its drawn gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# A seed word of its own keeps production draws apart from composition and timbre draws.
PRODUCTION_STREAM = 0x70726F64
REFERENCE_RMS = 0.1  # a stem's level going into its chain (-20 dBFS)


@dataclass(frozen=True)
class Effect:
    """One effect: its pedalboard class name (or `room`, `noise`) and its parameters."""

    name: str
    params: tuple[tuple[str, float], ...]

    def record(self) -> dict[str, Any]:
        return {"effect": self.name, **{k: round(v, 4) for k, v in self.params}}


def _effect(name: str, **params: float) -> Effect:
    return Effect(name, tuple(params.items()))


@dataclass(frozen=True)
class Placement:
    """Where a stem sits in the mix: a level offset on the composer's gain, and a pan
    (stereo renders only)."""

    level_db: float
    pan: float  # -1 left .. 1 right


def draw_placement(rng: np.random.Generator, role: str) -> Placement:
    """Level +-4 dB; basses and drums near the centre, other parts anywhere but the edges."""
    level_db = round(float(rng.uniform(-4.0, 4.0)), 2)
    width = 0.15 if role in ("bass", "drums") else 0.8
    return Placement(level_db, round(float(rng.uniform(-width, width)), 3))


def draw_chain(rng: np.random.Generator, role: str) -> list[Effect]:
    """A stem's effects, in the order applied; every parameter drawn from `rng`.

    Args:
        role: bass | drums | pad | harmonic (distortion is likelier on basses, chorus only
            on pads and other harmonic parts, delay never on basses).
    """

    def u(low: float, high: float) -> float:
        return float(rng.uniform(low, high))

    chain = [
        _effect("HighpassFilter", cutoff_frequency_hz=u(20, 40 if role == "bass" else 120)),
        _effect("LowShelfFilter", cutoff_frequency_hz=u(80, 250), gain_db=u(-4, 4), q=0.707),
        _effect(
            "PeakFilter",
            cutoff_frequency_hz=float(np.exp(u(np.log(200), np.log(5000)))),
            gain_db=u(-6, 6),
            q=u(0.5, 2.0),
        ),
        _effect("HighShelfFilter", cutoff_frequency_hz=u(3000, 9000), gain_db=u(-8, 4), q=0.707),
    ]
    if rng.random() < (0.4 if role == "bass" else 0.1):
        chain.append(_effect("Distortion", drive_db=u(4, 18)))
    if rng.random() < 0.6:
        chain.append(
            _effect(
                "Compressor",
                threshold_db=u(-30, -10),
                ratio=u(2, 8),
                attack_ms=u(1, 30),
                release_ms=u(50, 300),
            )
        )
    if role in ("harmonic", "pad") and rng.random() < 0.35:
        chain.append(_effect("Chorus", rate_hz=u(0.3, 2.0), depth=u(0.1, 0.4), mix=u(0.2, 0.5)))
    if role != "bass" and rng.random() < 0.2:
        chain.append(
            _effect("Delay", delay_seconds=u(0.12, 0.45), feedback=u(0.1, 0.4), mix=u(0.1, 0.3))
        )
    room = rng.random()
    if room < 0.35:  # pedalboard's (Freeverb) reverb
        chain.append(
            _effect(
                "Reverb",
                room_size=u(0.1, 0.8),
                damping=u(0.2, 0.8),
                wet_level=u(0.05, 0.3),
                dry_level=1.0,
            )
        )
    elif room < 0.75:  # a synthesized impulse response; else the stem stays dry
        chain.append(
            _effect("room", rt60_s=u(0.2, 1.6), wet=u(0.05, 0.35), seed=float(rng.integers(2**31)))
        )
    hum_db = u(-80, -60) if rng.random() < 0.4 else -200.0  # -200: no hum
    chain.append(
        _effect(
            "noise",
            noise_db=u(-75, -55),
            hum_db=hum_db,
            hum_hz=float(rng.choice([50.0, 60.0])),
            seed=float(rng.integers(2**31)),
        )
    )
    return chain


def room_impulse(rt60_s: float, sample_rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    """A synthesized room response [S]: noise decaying 60 dB in `rt60_s`, darker as it
    decays (two noise bands crossfaded), unit energy."""
    count = max(int(rt60_s * sample_rate_hz), 1)
    t = np.arange(count) / sample_rate_hz
    bright = rng.standard_normal(count)
    dark = np.convolve(rng.standard_normal(count), np.ones(8) / 8, mode="same")
    fade = np.exp(-t / max(rt60_s / 3, 1e-3))
    ir = (fade * bright + (1 - fade) * dark) * 10 ** (-3 * t / rt60_s)
    return (ir / np.sqrt(np.sum(ir**2))).astype(np.float32)


def _rms(wav: np.ndarray) -> float:
    return float(np.sqrt(np.mean(wav.astype(np.float64) ** 2))) if wav.size else 0.0


def _apply_room(wav: np.ndarray, effect: dict[str, float], rate: int) -> np.ndarray:
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(int(effect["seed"]))
    ir = room_impulse(effect["rt60_s"], rate, rng)
    wet = fftconvolve(wav, ir[None, :], axes=-1)[:, : wav.shape[-1]].astype(np.float32)
    scale = _rms(wav) / max(_rms(wet), 1e-12)
    return wav + effect["wet"] * scale * wet


def _apply_noise(wav: np.ndarray, effect: dict[str, float], rate: int) -> np.ndarray:
    """Add white noise and mains hum (three harmonics) at levels relative to the stem's RMS."""
    rng = np.random.default_rng(int(effect["seed"]))
    level = _rms(wav)
    floor = rng.standard_normal(wav.shape, dtype=np.float32) * np.float32(
        10 ** (effect["noise_db"] / 20)
    )
    if effect["hum_db"] > -150:
        # one second of hum, tiled: the hum's frequencies are whole numbers of Hz
        t = np.arange(rate) / rate
        harmonics = np.arange(1, 4)[:, None]  # [3, 1]: the mains frequency and two above
        second = (np.sin(2 * np.pi * effect["hum_hz"] * harmonics * t) / harmonics).sum(axis=0)
        repeats = -(-wav.shape[-1] // rate)
        hum = np.tile(second.astype(np.float32), repeats)[: wav.shape[-1]]
        floor += np.float32(10 ** (effect["hum_db"] / 20)) * hum
    return (wav + np.float32(level) * floor).astype(np.float32)


def apply_chain(wav: np.ndarray, chain: list[Effect], sample_rate_hz: int) -> np.ndarray:
    """Run a stem through its chain.

    Args:
        wav: [C, S] float32.
    Returns:
        [C, S] float32, the same length (tails past the end are cut, as the song is).
    """
    import pedalboard

    # at a fixed loudness first, so that drive and thresholds mean the same for every source
    out = np.ascontiguousarray(
        wav * np.float32(REFERENCE_RMS / max(_rms(wav), 1e-9)), dtype=np.float32
    )
    for effect in chain:
        params = dict(effect.params)
        if effect.name == "room":
            out = _apply_room(out, params, sample_rate_hz)
        elif effect.name == "noise":
            out = _apply_noise(out, params, sample_rate_hz)
        else:
            plugin = getattr(pedalboard, effect.name)(**params)
            out = plugin(out, sample_rate_hz, reset=True)
    return np.ascontiguousarray(out[:, : wav.shape[-1]], dtype=np.float32)
