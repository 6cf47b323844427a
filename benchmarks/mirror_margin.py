"""Calibrate evaluate's mirror margin on real parts: how often is another song's part
(shuffled) more similar to an input than the song's own part, by how much?

A generated part is flagged as a mirror of its input when its similarity to the input
exceeds the original part's by `MIRROR_MARGIN`. A shuffled part cannot copy the input,
so the share of shuffled parts that clear the margin is the flag's false-alarm rate. Run
on validation songs (never the demo's or a test set), e.g.

    .venv/bin/bandmate synth --out runs/val-4242 --songs 24 --seed 4242 --clip-seconds 20 \
        --timbres single  # the shipped models' timbre
    .venv/bin/python benchmarks/mirror_margin.py --data runs/val-4242 --pair bass:drum set

Prints JSON: for each pair and similarity kind, the false-alarm share at each margin.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from bandmate.data.audio import resample
from bandmate.data.clips import ClipConfig, SkipCounter
from bandmate.data.pairs import PairSpec
from bandmate.evaluate.clips import select_clips, test_pairs
from bandmate.evaluate.run import MIRROR_MARGIN
from bandmate.metrics.similarity import chroma_match, fit_features, rhythm_match

RATE = 24_000
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)


def exceedances(data: str, spec: PairSpec, clips: int, clip_seconds: float) -> dict[str, list]:
    """Per clip: similarity of shuffled minus that of original, for chroma and rhythm."""
    pairs = test_pairs("medleydb", data, spec, "all")
    tests = select_clips(pairs, ClipConfig(clip_seconds=clip_seconds), clips, SkipCounter())
    out: dict[str, list[float]] = {"chroma": [], "rhythm": []}
    for test in tests:
        source, original = test.clip.at_rate(RATE)
        shuffled = resample(test.shuffled, test.clip.sample_rate_hz, RATE)[: source.size]
        features = {
            name: fit_features(wav, RATE)
            for name, wav in (("input", source), ("original", original), ("shuffled", shuffled))
        }
        for kind, match in (("chroma", chroma_match), ("rhythm", rhythm_match)):
            own = match(features["original"], features["input"])
            other = match(features["shuffled"], features["input"])
            out[kind].append(other - own)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="a synth dataset (validation songs)")
    parser.add_argument(
        "--pair", action="append", required=True, help="INPUT:TARGET, e.g. bass:drum set"
    )
    parser.add_argument("--clips", type=int, default=48)
    parser.add_argument("--clip-seconds", type=float, default=4.0)
    args = parser.parse_args()
    result: dict[str, object] = {"margin_in_use": MIRROR_MARGIN, "pairs": {}}
    for text in args.pair:
        source, _, target = text.partition(":")
        diffs = exceedances(args.data, PairSpec(source, target), args.clips, args.clip_seconds)
        result["pairs"][text] = {  # type: ignore[index]
            kind: {
                "clips": len(values),
                "false_alarm_share": {
                    str(m): float(np.mean(np.asarray(values) > m)) for m in MARGINS
                },
                "p95_excess": float(np.percentile(values, 95)),
            }
            for kind, values in diffs.items()
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
