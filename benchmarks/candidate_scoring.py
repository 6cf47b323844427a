"""Scoring candidates: one CQT call for all candidates, shared by the judge and the fit,
against scoring each candidate on its own as before.

`pick_candidate` judges each candidate (`classify_audio`) and measures its chroma and
rhythm similarity to the input. Each of those computed the candidate's CQT chroma
(the judge and the chroma similarity each, and the input's again per candidate), and
librosa builds the CQT's filters anew at every call. Now the input's features are
computed once and the candidates' chromas in one call (`fit.clip_chromas`). Both score
the same synthetic candidates (4 s at the codec's 24 kHz: tones, clicks and noise) against
one input. Prints one JSON object: seconds per set of candidates, the speed-up and
whether every score agrees.

    PYTHONPATH=src python benchmarks/candidate_scoring.py --candidates 8 16
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bandmate.generate.choice import pick_candidate
from bandmate.metrics.outcome import classify_audio
from bandmate.metrics.similarity import chroma_similarity, rhythm_similarity

RATE = 24000
SECONDS = 4.0


def clip(rng: np.random.Generator) -> np.ndarray:
    """A few seconds of tones with clicks under noise: work like a generated part's."""
    t = np.arange(int(RATE * SECONDS)) / RATE
    tones = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(50, 800, 3))
    clicks = (np.sin(2 * np.pi * rng.uniform(1, 4) * t) > 0.95) * rng.normal(0, 0.5, t.size)
    return (0.2 * tones + clicks + 0.05 * rng.normal(size=t.size)).astype(np.float32)


def score_before(candidates: np.ndarray, source: np.ndarray) -> list[float]:
    """The scoring before: every candidate judged and compared on its own."""
    scores = []
    for candidate in candidates:
        outcome, _ = classify_audio(candidate, RATE)
        chroma = chroma_similarity(candidate, source, RATE)
        rhythm = rhythm_similarity(candidate, source, RATE)
        scores.append(2.0 * (outcome == "music") + chroma + rhythm)
    return scores


def score_now(candidates: np.ndarray, source: np.ndarray) -> list[float]:
    return [s["score"] for s in pick_candidate(candidates, source, RATE)[1]]


def timed(run: Callable[[], list[float]], repeats: int) -> tuple[float, list[float]]:
    run()  # warm-up (librosa's first calls compile)
    start = time.perf_counter()
    for _ in range(repeats):
        scores = run()
    return (time.perf_counter() - start) / repeats, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    source = clip(rng)
    rows: list[dict[str, Any]] = []
    for count in args.candidates:
        candidates = np.stack([clip(rng) for _ in range(count)])
        before_s, before = timed(lambda c=candidates: score_before(c, source), args.repeats)
        now_s, now = timed(lambda c=candidates: score_now(c, source), args.repeats)
        rows.append(
            {
                "candidates": count,
                "now_s": now_s,
                "before_s": before_s,
                "speedup": before_s / now_s,
                "same_scores": bool(np.allclose(now, before, rtol=1e-6, atol=1e-6)),
            }
        )
    print(json.dumps({"seconds_per_clip": SECONDS, "rate_hz": RATE, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
