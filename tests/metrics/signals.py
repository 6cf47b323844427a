"""Known cases for calibrating the outcome classes and fit metrics (numpy-synthesized)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 22050


def note(freq: float, seconds: float, rate: int = RATE, amp: float = 0.3) -> np.ndarray:
    """A plucked harmonic tone: 4 partials, fast attack, exponential decay."""
    t = np.arange(round(seconds * rate)) / rate
    partials = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 5))
    return (amp * partials * np.exp(-3.0 * t) * np.minimum(t / 0.005, 1.0)).astype(np.float32)


def melody(seed: int, seconds: float = 10.0, bpm: float = 120.0, rate: int = RATE) -> np.ndarray:
    """Eighth notes of a random walk on a major scale."""
    rng = np.random.default_rng(seed)
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
    step = 60.0 / bpm / 2
    out = np.zeros(round(seconds * rate), dtype=np.float32)
    degree = 3
    for i in range(int(seconds / step)):
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 7))
        start = round(i * step * rate)
        tone = note(220.0 * 2 ** (scale[degree] / 12), step * 1.5, rate)
        end = min(start + tone.size, out.size)
        out[start:end] += tone[: end - start]
    return out


def drums(seed: int, seconds: float = 10.0, bpm: float = 110.0, rate: int = RATE) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, closed hats on eighths."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    t = np.arange(round(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    snare = rng.standard_normal(t.size) * np.exp(-t * 25) * 0.5
    hat = np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t * 80) * 0.15
    out = np.zeros(round(seconds * rate), dtype=np.float32)
    for i in range(int(seconds / beat * 2)):
        hits = [hat] + ([kick] if i % 4 == 0 else []) + ([snare] if i % 4 == 2 else [])
        start = round(i * beat / 2 * rate)
        for hit in hits:
            end = min(start + hit.size, out.size)
            out[start:end] += hit[: end - start].astype(np.float32)
    return 0.5 * out


def white_noise(seed: int, seconds: float = 10.0, rate: int = RATE) -> np.ndarray:
    return (0.2 * np.random.default_rng(seed).standard_normal(round(seconds * rate))).astype(
        np.float32
    )


def pink_noise(seed: int, seconds: float = 10.0, rate: int = RATE) -> np.ndarray:
    n = round(seconds * rate)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    wav = np.fft.irfft(spectrum, n)
    return (0.2 * wav / np.std(wav)).astype(np.float32)


def noise_texture(seed: int, seconds: float = 10.0, rate: int = RATE) -> np.ndarray:
    """Band-limited noise with slow random swells: a 'dense noisy texture'."""
    rng = np.random.default_rng(seed)
    wav = pink_noise(seed, seconds, rate)
    swell = np.interp(np.arange(wav.size), np.linspace(0, wav.size, 12), rng.uniform(0.3, 1, 12))
    return (wav * swell).astype(np.float32)


def drone(seed: int, seconds: float = 10.0, rate: int = RATE) -> np.ndarray:
    """A held chord with a few clicks: harmonic energy without moving notes."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (130.8, 164.8, 196.0)) * 0.1
    for at in rng.integers(0, t.size - 10, 3):
        chord[at : at + 3] += 0.5
    return chord.astype(np.float32)


def drone_changing(seed: int, seconds: float = 10.0, rate: int = RATE) -> np.ndarray:
    """The drone, whose held chord changes once halfway: still no notes that start."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    first = sum(np.sin(2 * np.pi * f * t) for f in (130.8, 164.8, 196.0))
    second = sum(np.sin(2 * np.pi * f * t) for f in (174.6, 220.0, 261.6))
    chord = np.where(t < seconds / 2, first, second) * 0.1
    for at in rng.integers(0, t.size - 10, 3):
        chord[at : at + 3] += 0.5
    return chord.astype(np.float32)


def chords(seed: int, seconds: float = 10.0, bpm: float = 80.0, rate: int = RATE) -> np.ndarray:
    """Three-voice chords, one per beat, each voice a soft-attack harmonic tone: a
    chorale's upper parts, whose single strongest pitch class holds only a third."""
    rng = np.random.default_rng(seed)
    triads = [(0, 4, 7), (5, 9, 12), (7, 11, 14), (9, 12, 16), (2, 5, 9)]
    beat = 60.0 / bpm
    t = np.arange(round(beat * rate)) / rate
    envelope = np.minimum(t / 0.04, 1.0) * np.exp(-0.8 * t)
    out = np.zeros(round(seconds * rate), dtype=np.float32)
    for i in range(int(seconds / beat)):
        root = 261.6 * 2 ** (int(rng.integers(-2, 3)) / 12)
        triad = triads[int(rng.integers(len(triads)))]
        chord = sum(
            np.sin(2 * np.pi * root * 2 ** (step / 12) * k * t) / k
            for step in triad
            for k in (1, 2, 3)
        )
        start = round(i * beat * rate)
        end = min(start + t.size, out.size)
        out[start:end] += (0.1 * chord * envelope)[: end - start].astype(np.float32)
    return out


def bass_line(seed: int, seconds: float = 10.0, bpm: float = 100.0, rate: int = RATE) -> np.ndarray:
    """A low bass line (E1-E2) in an uneven rhythm of eighths, quarters and dotted
    quarters, repeating a root for a bar before it moves: too irregular to pass as a
    periodic rhythm, so only its pitch content makes it music."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    out = np.zeros(round(seconds * rate), dtype=np.float32)
    at, bar = 0.0, -1
    while at < seconds:
        if int(at / (4 * beat)) != bar:
            bar = int(at / (4 * beat))
            root = 41.2 * 2 ** (int(rng.choice([0, 3, 5, 7, 10, 12])) / 12)
        length = beat * float(rng.choice([0.5, 1.0, 1.5]))
        tone = note(root, length * 0.9, rate, amp=0.5)
        start = round(at * rate)
        end = min(start + tone.size, out.size)
        out[start:end] += tone[: end - start]
        at += length
    return out


def near_zero(seed: int, seconds: float = 10.0, rate: int = RATE) -> np.ndarray:
    return (1e-4 * np.random.default_rng(seed).standard_normal(round(seconds * rate))).astype(
        np.float32
    )


def render_gm(
    path: Path | None,
    program: int,
    pitches: list[int],
    seconds: float = 10.0,
    rate: int = RATE,
    drum: bool = False,
    bpm: float = 120.0,
) -> np.ndarray:
    """Render notes with the General MIDI soundfont shipped in pretty_midi's wheel."""
    import pretty_midi
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=rate)
    sfid = synth.sfload(str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"))
    synth.program_select(0, sfid, 128 if drum else 0, 0 if drum else program, is_drums=drum)
    step = 60.0 / bpm / 2
    frames: list[np.ndarray] = []
    for i in range(int(seconds / step)):
        pitch = pitches[i % len(pitches)]
        synth.noteon(0, pitch, 100)
        block = np.frombuffer(synth.generate(round(step * rate)), dtype=np.float32)
        synth.noteoff(0, pitch)
        frames.append(block.reshape(-1, 2).mean(axis=1))
    return (np.concatenate(frames) * 0.8).astype(np.float32)
