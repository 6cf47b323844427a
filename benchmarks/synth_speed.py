"""Rendering speed of `bandmate synth`: seconds of audio per second of wall time.

Measures, in the same run:
- baseline: one process at the default 24 kHz;
- the same settings with --jobs worker processes (output checked byte-identical);
- one process at MedleyDB's 44.1 kHz;
- where one process spends its time: composing (notes), synthesizing (TinySoundFont),
  and the rest (levelling, WAV/MIDI/YAML writing).
Prints one JSON object.

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

from bandmate.synth.dataset import SynthSettings, _render_stems, compose, synthesize
from bandmate.synth.render import default_soundfont


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
    """Seconds spent composing and synthesizing, one process, every song."""
    soundfont = str(default_soundfont())
    compose_s = render_s = 0.0
    for index in range(settings.songs):
        start = time.perf_counter()
        _, score = next(compose(settings, index))
        middle = time.perf_counter()
        _render_stems(score, settings, soundfont)
        compose_s += middle - start
        render_s += time.perf_counter() - middle
    return {"compose_s": round(compose_s, 2), "synthesize_s": round(render_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clip-seconds", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    settings = SynthSettings(songs=args.songs, seed=args.seed, clip_seconds=args.clip_seconds)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        baseline, base_digest = timed(settings, 1, work, "baseline")
        parallel, par_digest = timed(settings, args.jobs, work, "parallel")
        hifi, _ = timed(replace(settings, sample_rate_hz=44_100), 1, work, "hifi")
    breakdown = stages(settings)
    breakdown["other_s"] = round(baseline["wall_s"] - sum(breakdown.values()), 2)
    print(
        json.dumps(
            {
                "benchmark": "synth_speed",
                "songs": args.songs,
                "cpu_count": os.cpu_count(),
                "baseline": baseline,
                "parallel": parallel,
                "parallel_speedup": round(baseline["wall_s"] / parallel["wall_s"], 2),
                "parallel_identical": base_digest == par_digest,
                "sample_rate_44k": hifi,
                "sample_rate_44k_slowdown": round(hifi["wall_s"] / baseline["wall_s"], 2),
                "one_process_stages": breakdown,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
