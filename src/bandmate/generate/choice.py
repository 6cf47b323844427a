"""The candidate choice of `bandmate generate`: sample N accompaniments, keep the best.

`score = 2 * [outcome is music] + chroma similarity + 2 * rhythm similarity` to the input
(`bandmate.metrics`); N more are sampled while none so far is judged music, up to the
limit. Only the input is used, so a user gets the same pick as `bandmate evaluate`'s
`kept/...` rows. What a choice keeps is never the model's headline figure: the scores it
chose by are those `fit/*` normalises, so `evaluate` leads with single tries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bandmate.data.audio import resample, rms_db
from bandmate.generate.accompanist import Accompanist, GenerateConfig, Timings
from bandmate.metrics.outcome import classify_audio
from bandmate.metrics.similarity import (
    FitFeatures,
    chroma_match,
    clip_chromas,
    fit_features,
    rhythm_match,
)
from bandmate.synth.score import Part

log = logging.getLogger(__name__)
# Rhythm counts twice in a candidate's score. The models already match the input's chords
# (chroma fit 0.9-1.8 on validation chorales and songs, best of 8) and fall short on its
# rhythm (0.52-0.58 on chorales): on validation sets weighing rhythm twice raised every
# preset's rhythm fit (+0.006 to +0.03 at best of 8) and cost only surplus chroma fit
# (-0.04 to -0.15), with outcome/music unchanged.
# benchmarks/candidate_choice.py's `best_of_by_rule` and the model card give the figures.
RHYTHM_WEIGHT = 2.0


def candidate_score(
    candidate: np.ndarray, source: FitFeatures, rate: int, chroma: np.ndarray | None = None
) -> dict[str, Any]:
    """Outcome class and fit similarities of one candidate (at `rate`) against the input's
    features (`fit_features`); `chroma`: the candidate's CQT chroma, if computed already."""
    outcome, _ = classify_audio(candidate, rate, chroma)
    features = fit_features(candidate, rate, chroma)
    chroma_fit, rhythm_fit = chroma_match(features, source), rhythm_match(features, source)
    score = 2.0 * (outcome == "music") + chroma_fit + RHYTHM_WEIGHT * rhythm_fit
    return {"outcome": outcome, "chroma": chroma_fit, "rhythm": rhythm_fit, "score": score}


def pick_candidate(
    candidates: np.ndarray, source: np.ndarray, rate: int
) -> tuple[int, list[dict[str, Any]]]:
    """The best of candidates [B, S] by `candidate_score` against the input source [S']
    (all at `rate`; only the input is used, so a user gets the same pick). Returns the
    index and every candidate's score."""
    scores = score_candidates(candidates[:, : source.size], fit_features(source, rate), rate)
    return best_candidate(scores), scores


def best_candidate(scores: list[dict[str, Any]]) -> int:
    """Index of the highest `candidate_score` (the first of equals)."""
    return int(np.argmax([s["score"] for s in scores]))


def score_candidates(
    candidates: np.ndarray, source: FitFeatures, rate: int
) -> list[dict[str, Any]]:
    """`candidate_score` of each candidate [B, S] (at `rate`, cut to the input's length)
    against the input's features."""
    chromas = clip_chromas(candidates, rate)  # the judge and the fit share them
    return [
        candidate_score(clip, source, rate, chroma)
        for clip, chroma in zip(candidates, chromas, strict=True)
    ]


@dataclass
class Choice:
    """What `draw_candidates` drew for one input, and the candidate it kept."""

    audio: np.ndarray  # [S] the kept candidate, at the codec's rate
    # [S] the first candidate drawn: a single try, whatever the choice kept (what
    # `bandmate evaluate` reports first: its figures were not chosen by any score)
    first: np.ndarray
    scores: list[dict[str, Any]]  # `candidate_score` of every candidate drawn, in order
    best: int  # index of the kept one in `scores`
    timings: Timings
    windows: int
    # events checkpoints: the kept candidate's notes, and the input's beat grid [B] (s)
    parts: list[Part] | None = None
    grid: np.ndarray | None = None


def draw_candidates(
    accompanist: Accompanist, wav: np.ndarray, sample_rate_hz: int, config: GenerateConfig
) -> Choice:
    """Sample accompaniments of a mono input [S] `config.candidates` at a time, going on
    while none so far is judged music (up to `config.candidate_limit`), and keep the best
    by `candidate_score` against the input alone. Later batches continue the first one's
    random stream, so the first `candidates` are those a single batch would draw.

    Only the best so far is kept in memory: a long input's candidates are large."""
    rate = accompanist.codec.sample_rate_hz
    reference = resample(wav, sample_rate_hz, rate)
    source = fit_features(reference, rate)  # once for every batch
    generator = accompanist.generator(config)
    scores: list[dict[str, Any]] = []
    timings, best, kept = Timings(), 0, np.zeros(0, dtype=np.float32)
    first = kept
    parts: list[Part] | None = None
    batch = config.batch
    while True:
        audio, spent, windows = accompanist.accompany(
            wav, sample_rate_hz, replace(config, candidates=batch), generator
        )
        batch_scores = score_candidates(audio[:, : reference.size], source, rate)
        index = best_candidate(batch_scores)
        timings += spent
        if not scores:
            first = audio[0].copy()
        if not scores or batch_scores[index]["score"] > scores[best]["score"]:
            best, kept = len(scores) + index, audio[index].copy()  # not a view of the batch
            parts = accompanist.drawn_parts[index] if accompanist.drawn_parts else None
        scores += batch_scores
        remaining = config.candidate_limit - len(scores)
        if scores[best]["outcome"] == "music" or remaining <= 0:
            grid = accompanist.drawn_grid if parts is not None else None
            return Choice(kept, first, scores, best, timings, windows, parts, grid)
        batch = min(config.batch, remaining)
        log.info(
            "none of %d candidates judged music: drawing %d more (at most %d)",
            len(scores),
            batch,
            config.candidate_limit,
        )


def match_level(accompaniment: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale the accompaniment to the reference's RMS (unchanged if either is silent)."""
    target, current = rms_db(reference), rms_db(accompaniment)
    if not np.isfinite(target) or not np.isfinite(current):
        return accompaniment
    return (accompaniment * 10 ** ((target - current) / 20)).astype(np.float32)


def accompany_input(
    accompanist: Accompanist, mono: np.ndarray, sample_rate_hz: int, config: GenerateConfig
) -> tuple[np.ndarray, Choice]:
    """The accompaniment `bandmate generate` makes for a mono input [S]: the kept
    candidate at the input's rate and length, at the input's loudness (RMS).

    Returns:
        (accompaniment [S] float32, the `Choice` behind it).
    """
    config = accompanist.settings(config)
    choice = draw_candidates(accompanist, mono, sample_rate_hz, config)
    audio = resample(choice.audio, accompanist.codec.sample_rate_hz, sample_rate_hz)[: mono.size]
    audio = np.pad(audio, (0, mono.size - audio.size))
    return match_level(audio, mono), choice
