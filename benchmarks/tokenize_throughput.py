"""Throughput of `bandmate tokenize`: hours of audio tokenized per minute of wall time.

Writes a synthetic MedleyDB-layout dataset (drum clicks, bass and piano tones, 44.1 kHz),
then measures, in the same run:
- baseline: reading the pairs' clips and resampling them to 16 and 24 kHz (no model), the
  share of the work every tokenizer pays;
- `tokenize_dataset` end to end (k-means fit included) with 1 worker and with 2 workers.

Without --codec it uses EnCodec's real 24 kHz architecture with random weights (same
compute as the pretrained model; the codes themselves mean nothing). Prints one JSON object.

    .venv/bin/python benchmarks/tokenize_throughput.py --songs 6 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from bandmate.data.clips import ClipConfig, iter_clips
from bandmate.tokens.config import SemanticConfig, TokenizeConfig
from bandmate.tokens.pipeline import plan_pairs, tokenize_dataset

RATE_HZ = 44_100


def write_song(root: Path, song_id: str, seconds: float, seed: int) -> None:
    """Drum clicks, a bass tone and a piano tone as three MedleyDB stems."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE_HZ)) / RATE_HZ
    stems = {
        "drum set": (np.sin(2 * np.pi * 2 * t) > 0.9) * rng.uniform(-0.3, 0.3, t.shape),
        "electric bass": 0.3 * np.sin(2 * np.pi * rng.uniform(40, 100) * t),
        "piano": 0.2 * np.sin(2 * np.pi * rng.uniform(200, 600) * t),
    }
    meta: dict = {"stem_dir": f"{song_id}_STEMS", "mix_filename": f"{song_id}_MIX.wav"}
    meta["stems"] = {}
    stem_dir = root / "V1" / song_id / f"{song_id}_STEMS"
    stem_dir.mkdir(parents=True, exist_ok=True)
    for index, (label, wav) in enumerate(stems.items(), start=1):
        name = f"{song_id}_STEM_{index:02d}.wav"
        meta["stems"][f"S{index:02d}"] = {"filename": name, "instrument": label}
        sf.write(stem_dir / name, wav.astype(np.float32), RATE_HZ)
    (root / "Metadata").mkdir(parents=True, exist_ok=True)
    (root / "Metadata" / f"{song_id}_METADATA.yaml").write_text(yaml.safe_dump(meta))


def random_encodec(folder: Path) -> str:
    """EnCodec 24 kHz (real sizes, random weights) saved to `folder`; returns its spec."""
    from transformers import EncodecConfig, EncodecModel

    EncodecModel(EncodecConfig()).save_pretrained(folder)
    return f"encodec:{folder}@3kbps"


def baseline_seconds(config: TokenizeConfig) -> tuple[float, int]:
    """Time to read every clip and resample it to both tokenizer rates; and the clip count."""
    start, clips = time.perf_counter(), 0
    for pair in plan_pairs(config).pairs:
        for clip in iter_clips(pair, config.clips):
            clip.at_rate(16_000)
            clip.at_rate(24_000)
            clips += 1
    return time.perf_counter() - start, clips


def component_seconds(config: TokenizeConfig, tokenizer_dir: Path) -> dict[str, float]:
    """Seconds per 10 s clip of each tokenizer alone, one thread (as in a worker)."""
    import torch

    from bandmate.tokens.codecs import codec_from_spec
    from bandmate.tokens.semantic import load_semantic

    codec, semantic = codec_from_spec(config.codec), load_semantic(tokenizer_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = {}
        for name, model in (("semantic", semantic), ("codec", codec)):
            wav = 0.1 * torch.randn(4, round(10.0 * model.sample_rate_hz))
            start = time.perf_counter()
            model.encode(wav)
            out[f"{name}_seconds_per_clip"] = (time.perf_counter() - start) / 4
        return out
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each song")
    parser.add_argument("--codec", help="codec spec (default: random-weight EnCodec 24 kHz)")
    parser.add_argument("--semantic", default="spectral", help="spectral | w2v-bert")
    parser.add_argument("--semantic-model", default="facebook/w2v-bert-2.0")
    parser.add_argument("--clusters", type=int, default=1024)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        for index in range(args.songs):
            write_song(root, f"Bench_{index:03d}", args.seconds, seed=index)
        codec = args.codec or random_encodec(Path(tmp) / "encodec")
        config = TokenizeConfig(
            root=str(root),
            preset="bass-to-drums",
            clips=ClipConfig(clip_seconds=10.0),
            codec=codec,
            semantic=SemanticConfig(
                kind=args.semantic, model=args.semantic_model, num_clusters=args.clusters
            ),
        )
        base_s, clips = baseline_seconds(config)
        hours = clips * config.clips.clip_seconds / 3600
        runs = []
        for workers in (1, 2):
            start = time.perf_counter()
            manifest = tokenize_dataset(replace(config, workers=workers), Path(tmp) / f"w{workers}")
            seconds = time.perf_counter() - start
            assert sum(s["clips"] for s in manifest["splits"].values()) == clips
            runs.append(
                {
                    "workers": workers,
                    "seconds": round(seconds, 2),
                    "hours_per_minute": hours / (seconds / 60),
                }
            )
        components = component_seconds(config, Path(tmp) / "w1")
    print(
        json.dumps(
            {
                "benchmark": "tokenize_throughput",
                "audio_hours": round(hours, 4),
                "clips": clips,
                "codec": "random-weight encodec_24khz@3kbps" if not args.codec else codec,
                "semantic": f"{args.semantic}/kmeans{args.clusters}",
                "baseline_read_and_resample": {
                    "seconds": round(base_s, 2),
                    "hours_per_minute": hours / (base_s / 60),
                },
                "runs": runs,
                "one_thread": components,
                "speedup_2_workers": runs[0]["seconds"] / runs[1]["seconds"],
                "tokenize_vs_baseline_time": runs[1]["seconds"] / base_s,
                "cpu_count": os.cpu_count(),
                "load_average_1min": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
