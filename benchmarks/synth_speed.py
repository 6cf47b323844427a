"""Rendering speed of `bandmate synth`: seconds of audio per second of wall time.

Measures, in the same run, for each --timbres mode (default: single, then varied):
- baseline: one process at the default 24 kHz;
- the same settings with --jobs worker processes (output checked byte-identical);
- one process at MedleyDB's 44.1 kHz;
- where one process spends its time: composing (notes), synthesizing (TinySoundFont,
  kits, patches), production (effect chains: varied only) and the rest (finding the
  pool, levelling, WAV/MIDI/YAML writing).
Prints one JSON object, one key per mode.

    .venv/bin/python benchmarks/synth_speed.py --songs 20 --jobs 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bandmate.synth.dataset import (
    SynthSettings,
    compose,
    find_palette,
    song_voices,
    synthesize,
    vary_parts,
)
from bandmate.synth.production import (
    PRODUCTION_STREAM,
    apply_chain,
    draw_chain,
    draw_placement,
)
from bandmate.synth.timbres import role_of_part


def digest(root: Path) -> str:
    """One hash over every file (path and bytes) under `root`."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def timed(settings: SynthSettings, jobs: int, work: Path, name: str) -> tuple[dict, str]:
    report = synthesize(work / name, settings, jobs=jobs)
    result = {
        "jobs": jobs,
        "sample_rate_hz": settings.sample_rate_hz,
        "audio_s": round(report.audio_seconds, 1),
        "wall_s": round(report.wall_seconds, 2),
        "audio_s_per_wall_s": round(report.speed, 1),
    }
    return result, digest(report.out)


def stages(settings: SynthSettings) -> dict:
    """Seconds spent composing, synthesizing and producing, one process, every song."""
    palette = find_palette(settings)
    seconds = {"compose_s": 0.0, "synthesize_s": 0.0, "production_s": 0.0}
    rate = settings.sample_rate_hz
    for index in range(settings.songs):
        start = time.perf_counter()
        _, score = next(compose(settings, index))
        if settings.timbres == "varied":
            vary_parts(score.parts, settings.seed, index)
        seconds["compose_s"] += time.perf_counter() - start
        voices = song_voices(settings, index, score.parts, palette)
        count = round(score.duration_s * rate)
        for position, (part, voice) in enumerate(zip(score.parts, voices, strict=True)):
            if not part.notes:
                continue
            start = time.perf_counter()
            wav = voice.render(part, count, rate, settings.channels)
            middle = time.perf_counter()
            if settings.timbres == "varied":
                # the draws of dataset._render_stems, in its order
                rng = np.random.default_rng([settings.seed, index, PRODUCTION_STREAM, position])
                draw_placement(rng, role_of_part(part))
                apply_chain(wav, draw_chain(rng, role_of_part(part)), rate)
            seconds["synthesize_s"] += middle - start
            seconds["production_s"] += time.perf_counter() - middle
    return {name: round(value, 2) for name, value in seconds.items()}


def measure(settings: SynthSettings, jobs: int, work: Path) -> dict:
    """One mode's figures (see the module doc)."""
    baseline, base_digest = timed(settings, 1, work, f"{settings.timbres}-baseline")
    parallel, par_digest = timed(settings, jobs, work, f"{settings.timbres}-parallel")
    hifi, _ = timed(replace(settings, sample_rate_hz=44_100), 1, work, f"{settings.timbres}-hifi")
    breakdown = stages(settings)
    breakdown["other_s"] = round(baseline["wall_s"] - sum(breakdown.values()), 2)
    return {
        "baseline": baseline,
        "parallel": parallel,
        "parallel_speedup": round(baseline["wall_s"] / parallel["wall_s"], 2),
        "parallel_identical": base_digest == par_digest,
        "sample_rate_44k": hifi,
        "sample_rate_44k_slowdown": round(hifi["wall_s"] / baseline["wall_s"], 2),
        "one_process_stages": breakdown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clip-seconds", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--timbres", default="single,varied", help="modes to measure, comma-separated"
    )
    args = parser.parse_args()
    result: dict = {"benchmark": "synth_speed", "songs": args.songs, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        for mode in args.timbres.split(","):
            settings = SynthSettings(
                songs=args.songs, seed=args.seed, clip_seconds=args.clip_seconds, timbres=mode
            )
            result[mode] = measure(settings, args.jobs, Path(folder))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
