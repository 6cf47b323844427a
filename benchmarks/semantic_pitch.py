"""Do spectral semantic tokens keep a bass line's notes, whatever instrument plays it?

k-means is fitted on the bass lines of training-like songs (the seed and sources of
the bass-to-instrumental model's data, `ship-train2`). Then the bass voices of held-out
chorales are rendered on four instruments: acoustic bass and contrabass (the double
basses training uses) and tuba and bassoon (held out). For each feature setting it
reports two shares of frames:

    pitch/PROGRAM   the token centroid's pitch class (its chroma's argmax) equals the
                    sounding MIDI note's
    same/PROGRAM    the tuba or bassoon rendering's token has the same pitch class as
                    the acoustic bass rendering's, note for note
    token/PROGRAM   the tuba or bassoon rendering's token is the acoustic bass
                    rendering's token itself, frame for frame (what the model sees is
                    the same whatever plays the line)

The first setting given is the baseline the others are compared against (default: the
20 MFCCs + 1024-point STFT chroma that `semantic.kind: spectral` uses by default).

    PYTHONPATH=src python benchmarks/semantic_pitch.py [--songs 160] [--chorales 16]
        [--features 20,1024,stft 8,4096,stft 4,4096,salience]

Prints one JSON object per setting, then one with every setting's mean gain over the
baseline. Renders in memory; needs no dataset on disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import torch

from bandmate.kmeans import KMeansState, StreamingKMeans
from bandmate.synth.dataset import SynthSettings, compose
from bandmate.synth.render import default_soundfont, render_part
from bandmate.synth.score import Part, Score
from bandmate.tokens.features import SAMPLE_RATE_HZ, SpectralFeatures

FRAME_HZ = 50
TRAIN_SOURCES = (("band", 0.55), ("chorale", 0.3), ("folk", 0.15))
BASS_LABELS = ("electric bass", "double bass")
PROGRAMS = {"acoustic_bass": 32, "contrabass": 43, "tuba": 58, "bassoon": 70}


def bass_parts(
    seed: int, sources: tuple[tuple[str, float], ...], songs: int, by_label: bool
) -> list[tuple[Score, Part]]:
    """The first composed candidate of each song slot, and its bass parts: those a bass
    model takes as input (`by_label`: labelled a bass), else the bass voice whatever
    plays it."""
    settings = SynthSettings(songs, seed, sources, clip_seconds=20.0)
    found = []
    for index in range(songs):
        _, score = next(compose(settings, index))
        found += [
            (score, p)
            for p in score.parts
            if (p.label in BASS_LABELS if by_label else p.name == "bass")
        ]
    return found


def render(score: Score, part: Part, soundfont: str, program: int | None = None) -> torch.Tensor:
    """One part alone at 16 kHz [S], peak 0.5 (on `program` when given)."""
    if program is not None:
        part = dataclasses.replace(part, program=program)
    wav = render_part(part, round(score.duration_s * SAMPLE_RATE_HZ), SAMPLE_RATE_HZ, 1, soundfont)
    return torch.from_numpy(wav[0] / (np.abs(wav[0]).max() + 1e-9) * 0.5)


def sounding_pitch_class(part: Part, frames: int) -> np.ndarray:
    """[frames] pitch class of the lowest sounding note per 20 ms frame, -1 in rests."""
    classes = np.full(frames, -1)
    for note in sorted(part.notes, key=lambda n: -n.pitch):  # lower notes written last win
        start, end = int(note.start_s * FRAME_HZ), int(note.end_s * FRAME_HZ)
        classes[start : min(end, frames)] = note.pitch % 12
    return classes


def fit(features: SpectralFeatures, wavs: list[torch.Tensor]) -> KMeansState:
    kmeans = StreamingKMeans(256, seed=0)
    for wav in wavs:
        kmeans.partial_fit(features(wav[None])[0])
    return kmeans.finish()


def measure(
    features: SpectralFeatures,
    train: list[torch.Tensor],
    chorales: list[tuple[Score, Part]],
    renders: dict[str, list[torch.Tensor]],
) -> dict[str, float]:
    state = fit(features, train)
    centroids = state.centroids * state.std + state.mean  # [K, D] in feature units
    centroid_class = centroids[:, features.n_mfcc :].argmax(dim=1).numpy()  # [K]
    tokens = {
        name: [state.assign(features(w[None])[0]).numpy() for w in wavs]
        for name, wavs in renders.items()
    }
    classes = {name: [centroid_class[t] for t in per_song] for name, per_song in tokens.items()}
    out: dict[str, float] = {}
    for name, per_song in classes.items():
        hits = total = 0
        for (_, part), got in zip(chorales, per_song, strict=True):
            truth = sounding_pitch_class(part, len(got))
            hits += int((got[truth >= 0] == truth[truth >= 0]).sum())
            total += int((truth >= 0).sum())
        out[f"pitch/{name}"] = round(hits / total, 3)
    for name in ("tuba", "bassoon"):
        out[f"same/{name}"] = agreement(classes[name], classes["acoustic_bass"])
        out[f"token/{name}"] = agreement(tokens[name], tokens["acoustic_bass"])
    return out


def agreement(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Share of frames, over all songs, where two renderings' ids [F] are equal."""
    return round(float(np.concatenate([x == y for x, y in zip(a, b, strict=True)]).mean()), 3)


def parse_setting(text: str) -> SpectralFeatures:
    n_mfcc, chroma_fft, chroma = text.split(",")
    return SpectralFeatures(int(n_mfcc), int(chroma_fft), chroma)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=160, help="training-like songs for k-means")
    parser.add_argument("--chorales", type=int, default=16, help="held-out chorales measured")
    parser.add_argument(
        "--features",
        nargs="+",
        default=["20,1024,stft", "8,4096,stft", "4,4096,salience"],
        help="N_MFCC,CHROMA_FFT,CHROMA settings; the first is the baseline",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    soundfont = str(default_soundfont())
    train = [render(s, p, soundfont) for s, p in bass_parts(100, TRAIN_SOURCES, args.songs, True)]
    chorales = bass_parts(77, (("chorale-heldout", 1.0),), args.chorales, False)
    renders = {
        name: [render(s, p, soundfont, program) for s, p in chorales]
        for name, program in PROGRAMS.items()
    }
    results = {}
    for setting in args.features:
        results[setting] = measure(parse_setting(setting), train, chorales, renders)
        print(json.dumps({"features": setting, **results[setting]}), flush=True)
    baseline = results[args.features[0]]
    gains = {
        setting: round(float(np.mean([r[k] - baseline[k] for k in r])), 3)
        for setting, r in results.items()
    }
    print(json.dumps({"baseline": args.features[0], "mean_gain": gains}))


if __name__ == "__main__":
    main()
