"""Calibration of the panel's role and realism judges: pass rates and distances, in one run.

    .venv/bin/python benchmarks/panel_calibration.py [--songs 12] [--clips 36] [--seed 7]

Renders real stems with `bandmate synth` (20 s songs, 24 kHz mono) using the training
SoundFont (TimGM6mb) and every unseen General MIDI font installed (FluidR3_GM.sf2,
MuseScore_General.sf3), renders the songs' drum parts with the recorded kits
(Black_Pearl_4_LV2, Red_Zeppelin_4_LV2, drum presets only), cuts them into 4 s clips
(those where the part plays: RMS above -45 dBFS and half of the 100 ms windows within
40 dB of the loudest), passes the TimGM6mb clips through the shipped codec
(`bandmate:default`, encode + decode), and makes the known failures: white and pink
noise, drones (a held low tone, a held chord), noise bursts that follow a TimGM6mb bass
line's amplitude envelope (white and pink), decodes of uniformly random codes, and
decodes of random codes held for 10 frames (a model stuck on a token for 133 ms).

Prints one JSON object:
- `pass_rate[set][role]`: share of the set's clips that `role_plausible` passes as each
  role (real sets should pass as their own role, failures as none);
- `seconds_per_clip[role]`: mean `role_plausible` time per 4 s clip (OMP_NUM_THREADS=1);
- `realism[role]`: `frechet` and `two_sample_accuracy` on --realism-songs other TimGM6mb
  songs, one clip per song and role: of the songs of odd index against those of even
  index (real vs real), of the odd songs passed through the codec (the ceiling a model
  can reach), of unseen-font renders (one clip per song) and of each failure kind
  against the even songs, and the spread of both over 20 random draws of 12 vs 12 real
  clips.
Everything is seeded; the same arguments print the same figures (times aside).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # per-clip times on one thread, as evaluate

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from bandmate.metrics.realism import frame_features, frechet_distance, two_sample_accuracy
from bandmate.metrics.role import ROLES, PanelRole, role_plausible
from bandmate.synth import render
from bandmate.synth.dataset import SynthSettings, compose, synthesize

RATE = 24_000
CLIP = 4 * RATE
UNSEEN_FONTS = {
    "FluidR3_GM": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    "MuseScore_General": Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
}
KITS = {
    "Black_Pearl_4_LV2": Path("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2"),
    "Red_Zeppelin_4_LV2": Path("/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2"),
}
# Synth part names -> panel role (percussion and anything else: not judged).
PART_ROLE: dict[str, PanelRole] = {
    "bass": "bass",
    "drums": "drums",
    **dict.fromkeys(("chords", "pad", "lead", "soprano", "alto", "tenor", "backing vocals"),
                    "harmonic"),
}  # fmt: skip

Clip = tuple[int, np.ndarray]  # (song index, audio [S] at RATE)


def cache_sf3_fonts() -> None:
    """Decode each .sf3 font once per process (~9 s for MuseScore_General), resetting it
    per part. `render._load` decodes the font for every part, on purpose (see its
    docstring); here exact sample-for-sample reproducibility matters less than minutes."""
    original = render._load
    fonts: dict[tuple[str, int, int], Any] = {}

    def load(path: str, sample_rate_hz: int, channels: int) -> Any:
        if not path.endswith(".sf3"):
            return original(path, sample_rate_hz, channels)
        key = (path, sample_rate_hz, channels)
        if key not in fonts:
            fonts[key] = original(path, sample_rate_hz, channels)
        fonts[key].reset()
        return fonts[key]

    render._load = load


def cut(wav: np.ndarray) -> list[np.ndarray]:
    """4 s clips [S] of a stem [S] in which the part plays (see the module docstring)."""
    clips = []
    for start in range(0, wav.size - CLIP + 1, CLIP):
        clip = wav[start : start + CLIP].astype(np.float32)
        windows = np.sqrt(np.mean(clip.reshape(-1, RATE // 10).astype(np.float64) ** 2, axis=1))
        if np.sqrt(np.mean(windows**2)) < 10 ** (-45 / 20):
            continue
        if np.mean(windows > windows.max() * 10 ** (-40 / 20)) >= 0.5:
            clips.append(clip)
    return clips


def synth_clips(root: Path, soundfont: Path | None, songs: int, seed: int) -> dict[str, list[Clip]]:
    """Render a dataset with one font; clips per panel role, plus `instrumental` (the sum
    of a song's stems but vocals: what an `*-to-instrumental` model generates)."""
    settings = SynthSettings(
        songs=songs, seed=seed, clip_seconds=20.0, sample_rate_hz=RATE,
        soundfont=None if soundfont is None else str(soundfont), timbres="single",
    )  # fmt: skip
    synthesize(root, settings, jobs=1)
    manifest = json.loads((root / "manifest.json").read_text())
    out: dict[str, list[Clip]] = {"bass": [], "drums": [], "harmonic": [], "instrumental": []}
    for index, song in enumerate(manifest["songs"]):
        mix = None
        for stem in song["stems"]:
            wav, rate = sf.read(root / stem["file"], dtype="float32")
            assert rate == RATE
            if stem["part"] in PART_ROLE:
                out[PART_ROLE[stem["part"]]] += [(index, c) for c in cut(wav)]
            if stem["role"] != "vocals":
                mix = wav if mix is None else mix + wav
        if mix is not None:
            out["instrumental"] += [(index, c) for c in cut(mix)]
    return out


def kit_clips(kit: Path, songs: int, seed: int) -> list[Clip]:
    """The drum parts of `songs` band songs played on a recorded kit, at -20 dBFS RMS."""
    settings = SynthSettings(songs=songs, seed=seed, sources=(("band", 1.0),), clip_seconds=20)
    clips: list[Clip] = []
    for index in range(songs):
        _, score = next(compose(settings, index))
        for part in score.parts:
            if part.name == "drums" and part.notes:
                n = round(score.duration_s * RATE)
                wav = render.render_part(part, n, RATE, 1, str(kit))[0]
                wav = wav * 0.1 / max(float(np.sqrt(np.mean(wav**2))), 1e-9)
                clips += [(index, c) for c in cut(wav)]
    return clips


def white(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(CLIP)


def pink(rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(CLIP))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    wav = np.fft.irfft(spectrum, CLIP)
    return wav / wav.std()


def harmonic_tone(freq_hz: float, partials: int = 6) -> np.ndarray:
    t = np.arange(CLIP) / RATE
    return sum(np.sin(2 * np.pi * freq_hz * k * t) / k for k in range(1, partials + 1))


def held_triad(root_hz: float) -> np.ndarray:
    """A major triad held for the whole clip, 4 partials per note."""
    return sum(harmonic_tone(root_hz * 2 ** (step / 12), 4) for step in (0, 4, 7))


def envelope_of(wav: np.ndarray) -> np.ndarray:
    """Amplitude envelope [S] of a clip: 10 ms RMS frames, linearly interpolated."""
    hop = RATE // 100
    frames = np.sqrt(np.mean(wav[: wav.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    return np.interp(np.arange(wav.size), np.arange(frames.size) * hop + hop / 2, frames)


def failure_sets(basses: list[Clip], codec: Any, n: int, seed: int) -> dict[str, list[Clip]]:
    """The known failures, `n` clips each, as (clip number, audio) pairs."""
    rng = np.random.default_rng(seed)
    makers: dict[str, Callable[[int], np.ndarray]] = {
        "white": lambda i: 0.1 * white(rng),
        "pink": lambda i: 0.1 * pink(rng),
        "drone_tone": lambda i: 0.2 * harmonic_tone(rng.uniform(35.0, 110.0)),
        "drone_chord": lambda i: 0.07 * held_triad(rng.uniform(110.0, 260.0)),
        "bursts_white": lambda i: envelope_of(basses[i % len(basses)][1]) * white(rng),
        "bursts_pink": lambda i: envelope_of(basses[i % len(basses)][1]) * pink(rng),
    }  # fmt: skip
    sets = {
        name: [(i, make(i).astype(np.float32)) for i in range(n)] for name, make in makers.items()
    }
    generator = torch.Generator().manual_seed(seed)
    frames = round(CLIP / RATE * codec.frame_rate_hz)
    shape = (n, codec.num_codebooks, frames)
    uniform = torch.randint(0, codec.codebook_size, shape, generator=generator)
    held = torch.randint(
        0, codec.codebook_size, (*shape[:2], -(-frames // 10)), generator=generator
    )
    for name, codes in (("codec_random", uniform), ("codec_held", held.repeat_interleave(10, 2))):
        wavs = codec.decode(codes[..., :frames]).numpy()
        sets[name] = [(i, w[:CLIP].astype(np.float32)) for i, w in enumerate(wavs)]
    return sets


def resynthesize(clips: list[Clip], codec: Any) -> list[Clip]:
    """Clips passed through the codec (encode + decode), in batches of 16."""
    out: list[Clip] = []
    for start in range(0, len(clips), 16):
        batch = clips[start : start + 16]
        wavs = codec.decode(codec.encode(torch.from_numpy(np.stack([c for _, c in batch]))))
        out += [(i, w[:CLIP].numpy()) for (i, _), w in zip(batch, wavs, strict=True)]
    return out


def subsample(clips: list[Clip], n: int, seed: int) -> list[Clip]:
    if len(clips) <= n:
        return clips
    keep = np.sort(np.random.default_rng(seed).choice(len(clips), n, replace=False))
    return [clips[i] for i in keep]


def pass_rates(sets: dict[str, list[Clip]]) -> tuple[dict[str, Any], dict[str, float]]:
    """Share of each set passed as each role, and the mean seconds per clip per role."""
    rates: dict[str, Any] = {}
    spent = dict.fromkeys(ROLES, 0.0)
    calls = dict.fromkeys(ROLES, 0)
    for name, clips in sets.items():
        rates[name] = {}
        for role in ROLES:
            started = time.perf_counter()
            verdicts = [role_plausible(c, RATE, role)[0] for _, c in clips]
            spent[role] += time.perf_counter() - started
            calls[role] += len(clips)
            rates[name][role] = round(float(np.mean(verdicts)), 3)
    return rates, {r: round(spent[r] / max(calls[r], 1), 4) for r in ROLES}


def one_per_song(clips: list[Clip]) -> list[Clip]:
    """The first clip of each song. Clips of one song are alike: sets holding several of a
    song's clips let the two-sample test recognise songs instead of telling sets apart
    (real vs real scored 0.96, not 0.5, with 5 clips per song from 12 songs)."""
    seen: set[int] = set()
    out: list[Clip] = []
    for index, clip in clips:
        if index not in seen:
            seen.add(index)
            out.append((index, clip))
    return out


def realism_figures(real: list[Clip], others: dict[str, list[Clip]], seed: int) -> dict[str, Any]:
    """Realism of each set against the even-indexed songs of `real` (and of the odd ones:
    real vs real), plus the spread over 20 draws of 12 vs 12 real clips."""
    feats = {id(c): frame_features(c, RATE) for _, c in real}
    reference = [feats[id(c)] for i, c in real if i % 2 == 0]
    held_out = [feats[id(c)] for i, c in real if i % 2 == 1]
    result: dict[str, Any] = {}

    def score(frames: list[np.ndarray]) -> dict[str, float]:
        distance = frechet_distance(np.concatenate(frames), np.concatenate(reference))
        return {
            "frechet": round(distance, 2),
            "two_sample_accuracy": round(two_sample_accuracy(frames, reference, seed), 3),
            "clips": len(frames),
        }  # fmt: skip

    result["real_vs_real"] = score(held_out)
    for name, clips in others.items():
        result[f"{name}_vs_real"] = score([frame_features(c, RATE) for _, c in clips])
    rng = np.random.default_rng(seed)
    accuracies, distances = [], []
    for draw in range(20):
        a = [held_out[i] for i in rng.choice(len(held_out), min(12, len(held_out)), replace=False)]
        b = [
            reference[i] for i in rng.choice(len(reference), min(12, len(reference)), replace=False)
        ]
        accuracies.append(two_sample_accuracy(a, b, seed + draw))
        distances.append(frechet_distance(np.concatenate(a), np.concatenate(b)))
    result["real_vs_real_12v12"] = {
        "accuracy_mean": round(float(np.mean(accuracies)), 3),
        "accuracy_std": round(float(np.std(accuracies)), 3),
        "accuracy_max": round(float(np.max(accuracies)), 3),
        "frechet_mean": round(float(np.mean(distances)), 2),
        "frechet_std": round(float(np.std(distances)), 2),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=12, help="songs per font (default 12)")
    parser.add_argument("--clips", type=int, default=30, help="clips per set (default 30)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--realism-songs", type=int, default=48, help="TimGM6mb songs for realism (default 48)"
    )
    args = parser.parse_args(argv)
    from bandmate.codec import codec_from_checkpoint

    cache_sf3_fonts()
    torch.set_num_threads(1)
    codec = codec_from_checkpoint("default")
    sets: dict[str, list[Clip]] = {}
    by_font: dict[str, dict[str, list[Clip]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fonts = {"TimGM6mb": None, **{k: p for k, p in UNSEEN_FONTS.items() if p.is_file()}}
        for name, path in fonts.items():
            by_font[name] = synth_clips(Path(tmp) / name, path, args.songs, args.seed)
        # Realism compares sets of one clip per song, so it needs songs of its own.
        many = synth_clips(Path(tmp) / "realism", None, args.realism_songs, args.seed + 1)
    for name, clips in by_font.items():
        for role, role_clips in clips.items():
            sets[f"real/{name}/{role}"] = subsample(role_clips, args.clips, args.seed)
    for name, kit in KITS.items():
        if kit.is_file():
            sets[f"real/{name}/drums"] = subsample(
                kit_clips(kit, args.songs, args.seed), args.clips, args.seed
            )
    with torch.inference_mode():
        for role in ROLES:
            sets[f"codec/TimGM6mb/{role}"] = resynthesize(sets[f"real/TimGM6mb/{role}"], codec)
        failures = failure_sets(by_font["TimGM6mb"]["bass"], codec, args.clips, args.seed)
    sets |= {f"fail/{name}": clips for name, clips in failures.items()}
    rates, seconds = pass_rates(sets)
    realism: dict[str, Any] = {}
    with torch.inference_mode():
        for role in ROLES:
            real = one_per_song(many[role])
            odd = [c for c in real if c[0] % 2 == 1]
            others = {
                "codec": resynthesize(odd, codec),
                **{n: one_per_song(by_font[n][role]) for n in by_font if n != "TimGM6mb"},
                **{n: failures[n] for n in ("white", "pink", "bursts_white", "codec_random")},
            }
            realism[role] = realism_figures(real, others, args.seed)
    kits = [name for name, path in KITS.items() if path.is_file()]
    report = {
        "settings": vars(args) | {"fonts": list(by_font), "kits": kits},
        "clips": {name: len(clips) for name, clips in sets.items()},
        "pass_rate": rates,
        "seconds_per_clip": seconds,
        "realism": realism,
    }  # fmt: skip
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
