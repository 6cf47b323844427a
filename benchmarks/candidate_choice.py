"""How much choosing among candidates buys: best of N for N = 1, 2, 4, ... on held-out clips.

For each test clip of `bandmate evaluate` (same clips, same input override), samples
`--candidates` accompaniments once and scores each against the input alone, as
`bandmate generate --candidates` does (`generate/run.candidate_score`). Best of N is
then read off without sampling again: the candidates are cut into groups of N, each
group keeps its best-scoring one, and the metrics are averaged over the groups. N = 1 is
the single try, the baseline. Prints one JSON object with, per N, `outcome/music`,
`fit/chroma` and `fit/rhythm` (`bandmate evaluate`'s definitions), for generate's score
and, in `best_of_by_rule`, for other choices (`RULES`); in
`until_music`, for drawing 8 at a time while none so far is judged music, up to 16, 32,
... (`bandmate generate --max-candidates`), with the mean number drawn.

    PYTHONPATH=src python benchmarks/candidate_choice.py --checkpoint bandmate:bass-to-drums-codec \
        --data VALIDATION_SONGS --clips 24 --candidates 16
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from bandmate.data.clips import SkipCounter
from bandmate.evaluate.clips import TestClip
from bandmate.evaluate.run import EvaluateConfig, reference_audio, select_test_clips
from bandmate.generate.accompanist import Accompanist, GenerateConfig
from bandmate.generate.choice import pick_candidate
from bandmate.generate.sampling import SamplingConfig
from bandmate.metrics.similarity import chroma_similarity, normalized_fit, rhythm_similarity

# Ways to keep one candidate: the score `bandmate generate` uses (rhythm similarity counts
# twice), the score it used until 2026-12-07 (chroma and rhythm once each), and rhythm
# alone (to see how far choosing could take a rhythm fit).
RULES: dict[str, Callable[[dict[str, Any]], float]] = {
    "score": lambda s: s["score"],
    "even": lambda s: 2.0 * (s["outcome"] == "music") + s["chroma"] + s["rhythm"],
    "rhythm_only": lambda s: s["rhythm"],
}


def clip_scores(acc: Accompanist, test: TestClip, config: GenerateConfig) -> dict[str, Any]:
    """Every candidate's score, and the similarities of the clip's baselines (its
    original accompaniment, another song's) to the input."""
    rate, audio = acc.codec.sample_rate_hz, reference_audio(acc, test)
    generated, _, _ = acc.accompany(test.clip.input, test.clip.sample_rate_hz, config)
    scores: dict[str, Any] = {"candidates": pick_candidate(generated, audio["input"], rate)[1]}
    for name in ("original", "shuffled"):
        scores[f"chroma/{name}"] = chroma_similarity(audio[name], audio["input"], rate)
        scores[f"rhythm/{name}"] = rhythm_similarity(audio[name], audio["input"], rate)
    return scores


def _defined(value: float) -> float | None:
    return None if np.isnan(value) else value


Candidate = dict[str, Any]


def read_off(
    clips: list[dict[str, Any]],
    size: int,
    choose: Callable[[list[Candidate]], tuple[Candidate, int]],
) -> dict[str, Any]:
    """Metrics of the candidate kept from each clip's disjoint groups of `size`, averaged
    over the groups; `choose` gives a group's kept candidate and how many were drawn."""
    groups = len(clips[0]["candidates"]) // size
    music: list[float] = []
    drawn: list[int] = []
    fits: dict[str, list[float]] = {"chroma": [], "rhythm": []}
    for g in range(groups):
        kept = []
        for clip in clips:
            candidate, n = choose(clip["candidates"][g * size : (g + 1) * size])
            kept.append(candidate)
            drawn.append(n)
        music.append(float(np.mean([k["outcome"] == "music" for k in kept])))
        for kind, values in fits.items():
            baselines = [[clip[f"{kind}/{s}"] for clip in clips] for s in ("original", "shuffled")]
            values.append(normalized_fit([k[kind] for k in kept], *baselines))
    return {
        "outcome/music": float(np.mean(music)),
        # A fit is undefined (None) where the baselines coincide: drums carry no chroma.
        **{f"fit/{kind}": _defined(float(np.mean(v))) for kind, v in fits.items()},
        "candidates_drawn": float(np.mean(drawn)),
        "groups": groups,
    }


def best_of(
    clips: list[dict[str, Any]], n: int, rule: Callable[[Candidate], float]
) -> dict[str, Any]:
    """Metrics of the candidate `rule` keeps, averaged over the disjoint groups of n."""
    return read_off(clips, n, lambda group: (max(group, key=rule), len(group)))


def until_music(clips: list[dict[str, Any]], batch: int, limit: int) -> dict[str, Any]:
    """Metrics when candidates are drawn `batch` at a time until the best so far (by
    generate's score) is judged music, at most `limit` (`bandmate generate
    --max-candidates`): read off disjoint groups of `limit` candidates, as `best_of`."""

    def draw(group: list[Candidate]) -> tuple[Candidate, int]:
        n = batch
        while n < limit and max(group[:n], key=RULES["score"])["outcome"] != "music":
            n += batch
        return max(group[:n], key=RULES["score"]), n

    return read_off(clips, limit, draw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True, help="a `bandmate synth` folder")
    parser.add_argument("--input", default="", help="input stems' labels (evaluate --input)")
    parser.add_argument("--split", default="all")
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--candidates", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance", type=float, help="default: the checkpoint's own")
    args = parser.parse_args()
    acc = Accompanist.from_checkpoint(args.checkpoint, "cpu")
    clips_config = EvaluateConfig(clips=args.clips, split=args.split, input=args.input)
    tests = select_test_clips(acc, args.data, clips_config, SkipCounter())
    sampling = SamplingConfig(guidance=args.guidance)
    config = GenerateConfig(sampling, candidates=args.candidates, seed=args.seed)
    clips = [clip_scores(acc, t, config) for t in tqdm(tests, desc="clips", unit="clip")]
    sizes = [n for n in (1, 2, 4, 8, 16, 32, 64) if n <= args.candidates]
    report = {
        "checkpoint": args.checkpoint,
        "guidance": acc.settings(config).sampling.guidance,
        "data": args.data,
        "input": args.input,
        "clips": len(clips),
        "candidates": args.candidates,
        "best_of": {str(n): best_of(clips, n, RULES["score"]) for n in sizes},
        "best_of_by_rule": {
            name: {str(n): best_of(clips, n, rule) for n in sizes} for name, rule in RULES.items()
        },
        # Drawing 8 more while none is judged music, up to 2, 4, ... times as many.
        "until_music": {
            f"8 to {limit}": until_music(clips, 8, limit) for limit in sizes if limit > 8
        },
        "per_clip": clips,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
