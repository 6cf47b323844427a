"""Summaries of the ratings: mean fit per system with a confidence interval, outcome shares,
and agreement between the raters' outcome labels and the automatic outcome classes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats as scipy_stats

from bandmate.evaluate.listen.report import OUTCOMES, SYSTEMS, Trial
from bandmate.evaluate.listen.store import Rating


@dataclass(frozen=True)
class MeanCI:
    """Mean of n values with a two-sided t confidence interval (None where n < 2)."""

    n: int
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Agreement:
    """How often two labelings agree: raw share and Cohen's kappa (None where undefined)."""

    n: int
    share: float | None
    kappa: float | None


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> MeanCI:
    """Mean with a Student-t interval: mean ± t(1-α/2, n-1) · sd / √n."""
    n = len(values)
    if n == 0:
        return MeanCI(0, None, None, None)
    mean = math.fsum(values) / n
    if n < 2:
        return MeanCI(n, mean, None, None)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return MeanCI(n, mean, mean - half, mean + half)


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> Agreement:
    """Agreement of two labelings of the same items.

    kappa = (p_o - p_e) / (1 - p_e), p_o the observed agreement, p_e the agreement expected
    from each labeling's class shares alone. Undefined (None) when p_e = 1, i.e. both
    labelings use one and the same class throughout.
    """
    if len(first) != len(second):
        raise ValueError("labelings differ in length")
    n = len(first)
    if n == 0:
        return Agreement(0, None, None)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    kappa = None if math.isclose(expected, 1.0) else (observed - expected) / (1 - expected)
    return Agreement(n, observed, kappa)


def summarize(ratings: Sequence[Rating], trials: dict[str, Trial]) -> dict[str, Any]:
    """Everything the results page shows, as a JSON-ready dict.

    Keys: `n_ratings`, `n_raters`, `n_trials`, `systems` (per system: `fit` mean/CI,
    `outcomes` rater shares, `automatic` shares of the automatic classes over its trials,
    `agreement`), and `agreement` over all systems.
    """
    systems: dict[str, Any] = {}
    for system in SYSTEMS:
        chosen = [r for r in ratings if r.system == system]
        system_trials = [t for t in trials.values() if t.system == system]
        if not chosen and not system_trials:
            continue
        systems[system] = {
            "fit": asdict(mean_ci([float(r.fit) for r in chosen])),
            "outcomes": _shares([r.outcome for r in chosen]),
            "automatic": _shares([t.automatic_outcome for t in system_trials]),
            "agreement": asdict(_agreement(chosen, trials)),
        }
    return {
        "n_ratings": len(ratings),
        "n_raters": len({r.rater for r in ratings}),
        "n_trials": len(trials),
        "systems": systems,
        "agreement": asdict(_agreement(ratings, trials)),
    }


def _shares(labels: Sequence[str | None]) -> dict[str, float | None]:
    known = [label for label in labels if label in OUTCOMES]
    counts = Counter(known)
    return {label: (counts[label] / len(known) if known else None) for label in OUTCOMES}


def _agreement(ratings: Sequence[Rating], trials: dict[str, Trial]) -> Agreement:
    """Rater label vs automatic class, over ratings whose trial has an automatic class."""
    pairs = [
        (r.outcome, trials[r.trial_id].automatic_outcome)
        for r in ratings
        if r.trial_id in trials and trials[r.trial_id].automatic_outcome is not None
    ]
    return cohen_kappa([p[0] for p in pairs], [str(p[1]) for p in pairs])
