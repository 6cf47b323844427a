"""Timbre invariance of the semantic tokenizers: does one part, played on another
instrument, get the same tokens?

For the bass and drum parts of N `bandmate synth` band songs (validation seed, never a
test set), each part is rendered dry at 16 kHz with every timbre of a fixed set from the
varied pool (issue #34): for bass, fingered bass (GM 33) on each non-reserved General MIDI
font and the first synth-bass patch; for drums, each font's standard kit and the first
recorded kits that are drum sets. Each rendering is tokenized with every shipped tokenizer
whose input is that role. Measured in the same run:

- `same_part`: the share of frames whose token is the same for one part on two timbres
  (mean over timbre pairs and parts): invariance, 1.0 at best;
- `same_part_distinct`: the same without the pairs in `SHARED_SAMPLES` (csound's sf_GMbank
  shares most samples with TimGM6mb: one drum part on both correlates 0.99 sample by
  sample, a synth-bass part 1.0);
- `same_timbre`: the same share for two different songs' parts on one timbre: what
  agreement by chance alone (shared silence, shared timbre) gives.

With `--refit DATA`, each tokenizer is also refitted (same features, same number of
clusters) on the training split of DATA, e.g. a `--timbres varied` render, and measured
beside the shipped one (`refit/...`): what refitting on many timbres alone buys.
`--refit-set KEY=VALUE` changes the refitted features (e.g. `n_mfcc=4`, `chroma=salience`,
`chroma_fft=4096`: bass-to-instrumental's), to see which carry less timbre.

    .venv/bin/python benchmarks/tokenizer_invariance.py --songs 12 --seed 4242 \
        [--refit runs/varied-100 --refit-clips 600]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from bandmate.checkpoint_files import resolve_checkpoint
from bandmate.data.clips import ClipConfig, SkipCounter, iter_clips
from bandmate.data.pairs import PairSpec
from bandmate.evaluate.clips import test_pairs
from bandmate.synth.dataset import SynthSettings, compose
from bandmate.synth.patches import PATCHES
from bandmate.synth.score import Part
from bandmate.synth.timbres import (
    FontVoice,
    KitVoice,
    PatchVoice,
    Voice,
    role_of_part,
    varied_palette,
)
from bandmate.tokens.features import SAMPLE_RATE_HZ, build_features
from bandmate.tokens.semantic import KMeansTokenizer, fit_semantic, load_semantic

RATE = 16_000
SHARED_SAMPLES = {frozenset(("TimGM6mb.sf2", "sf_GMbank.sf2"))}  # pairs of one sound
KITS = 3  # recorded kits in the drum set (the first drum sets by name)
TOKENIZERS = {
    "bass": ("bass-to-drums", "bass-to-drums-codec", "bass-to-instrumental"),
    "drums": ("drums-to-bass", "drums-to-bass-codec"),
}


def voices(role: str) -> dict[str, Voice]:
    """The fixed timbre set of a role, by name."""
    palette = varied_palette()
    out: dict[str, Voice] = {}
    for font, kits in zip(palette.fonts, palette.drum_programs, strict=True):
        program = (kits[0] if kits else 0) if role == "drums" else 33
        out[font.file] = FontVoice(font, program)
    if role == "bass":
        patch = next(p for p in PATCHES if p.role == "bass")
        out[f"patch:{patch.name}"] = PatchVoice(patch, patch.name)
    else:
        for kit in [k for k in palette.kits if k.is_drum_set][:KITS]:
            out[f"hydrogen:{kit.name}"] = KitVoice(kit)
    return out


def parts(settings: SynthSettings, role: str) -> Iterator[Part]:
    """The first part of `role` of each song that has one."""
    for index in range(settings.songs):
        _, score = next(compose(settings, index))
        found = [p for p in score.parts if role_of_part(p) == role and p.notes]
        if found:
            yield found[0]


def refit(
    shipped: KMeansTokenizer, role: str, data: str, clips: int, changes: dict[str, str]
) -> KMeansTokenizer:
    """`shipped`'s features (with `changes`) and cluster count, refitted on up to `clips`
    4 s clips of `role` (bass or drums) from DATA's training split."""
    features = build_features({**shipped.features.describe(), **changes})
    spec = PairSpec("bass", "drum set")
    pairs = test_pairs("medleydb", data, spec, "train")
    config, skips = ClipConfig(clip_seconds=4.0), SkipCounter()
    audio = []
    for clip in itertools.chain.from_iterable(iter_clips(p, config, skips) for p in pairs):
        bass, drums = clip.at_rate(SAMPLE_RATE_HZ)
        audio.append(torch.from_numpy((bass if role == "bass" else drums).astype(np.float32)))
        if len(audio) == clips:
            break
    return fit_semantic(features, audio, shipped.vocab_size)


def agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a == b).float().mean())


def measure(
    role: str, settings: SynthSettings, data: str | None, clips: int, changes: dict[str, str]
) -> dict[str, object]:
    timbres = voices(role)
    samples = int(settings.clip_seconds * RATE)
    songs = list(parts(settings, role))
    # [part][timbre] -> mono audio
    audio = [
        {
            name: torch.from_numpy(v.render(p, samples, RATE, 1)[0].astype(np.float32))
            for name, v in timbres.items()
        }
        for p in songs
    ]
    result: dict[str, object] = {"parts": len(songs), "timbres": list(timbres)}
    pairs = list(itertools.combinations(timbres, 2))
    tokenizers = {}
    for preset in TOKENIZERS[role]:
        shipped = load_semantic(Path(resolve_checkpoint(f"bandmate:{preset}")) / "tokenizer")
        tokenizers[preset] = shipped
        if data is not None:
            tokenizers[f"refit/{preset}"] = refit(shipped, role, data, clips, changes)
    for preset, tokenizer in tokenizers.items():
        ids = [
            {name: tokenizer.encode(wav[None])[0] for name, wav in song.items()} for song in audio
        ]
        by_pair = {(a, b): float(np.mean([agreement(s[a], s[b]) for s in ids])) for a, b in pairs}
        distinct = [v for pair, v in by_pair.items() if frozenset(pair) not in SHARED_SAMPLES]
        chance = [
            agreement(ids[i][name], ids[(i + 1) % len(ids)][name])
            for i in range(len(ids))
            for name in timbres
        ]
        result[preset] = {
            "same_part": round(float(np.mean(list(by_pair.values()))), 3),
            "same_part_distinct": round(float(np.mean(distinct)), 3),
            "same_timbre": round(float(np.mean(chance)), 3),
            "by_pair": {f"{a} / {b}": round(v, 3) for (a, b), v in by_pair.items()},
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=4242, help="a validation seed")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--refit", metavar="DATA", help="also refit on DATA's training split")
    parser.add_argument("--refit-clips", type=int, default=600)
    parser.add_argument("--refit-set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    changes = dict(item.split("=", 1) for item in args.refit_set)
    settings = SynthSettings(args.songs, args.seed, (("band", 1.0),), clip_seconds=args.seconds)
    report = {
        role: measure(role, settings, args.refit, args.refit_clips, changes) for role in TOKENIZERS
    }
    header = {"songs": args.songs, "seed": args.seed, "refit_set": changes}
    print(json.dumps({**header, **report}, indent=1))


if __name__ == "__main__":
    main()
