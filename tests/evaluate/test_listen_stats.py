"""Summaries of the ratings: t intervals, Cohen's kappa, per-system shares."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bandmate.evaluate.listen.report import load_report
from bandmate.evaluate.listen.stats import cohen_kappa, mean_ci, summarize
from bandmate.evaluate.listen.store import Rating
from tests.evaluate.test_listen_report import SECRET, write_fake_report


def test_mean_ci_matches_scipy_t_interval() -> None:
    values = [1.0, 2.0, 2.0, 4.0, 5.0, 3.0]
    got = mean_ci(values)
    low, high = scipy_stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values)
    )
    assert got.n == 6 and got.mean == pytest.approx(np.mean(values))
    assert (got.low, got.high) == (pytest.approx(low), pytest.approx(high))


def test_mean_ci_small_samples() -> None:
    assert mean_ci([]).mean is None
    one = mean_ci([4.0])
    assert one.mean == 4.0 and one.low is None
    same = mean_ci([3.0, 3.0, 3.0])
    assert same.low == same.high == 3.0


def test_cohen_kappa_against_a_worked_example() -> None:
    # 10 items: observed agreement 0.7; shares a = (.5 music, .5 noise), b = (.6, .4):
    # p_e = .5*.6 + .5*.4 = .5, kappa = (.7 - .5) / .5 = .4.
    first = ["music"] * 5 + ["noise"] * 5
    second = ["music"] * 4 + ["noise"] + ["music"] * 2 + ["noise"] * 3
    got = cohen_kappa(first, second)
    assert got.n == 10 and got.share == pytest.approx(0.7)
    assert got.kappa == pytest.approx(0.4)


def test_cohen_kappa_edges() -> None:
    assert cohen_kappa(["music", "noise"], ["music", "noise"]).kappa == pytest.approx(1.0)
    single = cohen_kappa(["music"] * 3, ["music"] * 3)
    assert single.share == 1.0 and single.kappa is None
    assert cohen_kappa([], []).share is None
    with pytest.raises(ValueError):
        cohen_kappa(["music"], [])


def _rating(rater: str, trial_id: str, system: str, outcome: str, fit: int) -> Rating:
    return Rating(rater, trial_id, "ex", system, outcome, fit, 1, "2026-01-01T00:00:00")


def test_summarize_per_system(tmp_path: Path) -> None:
    trials = load_report(write_fake_report(tmp_path, n_examples=2), SECRET).by_id()
    ids = {(t.example_id, t.system): t.trial_id for t in trials.values()}
    ratings = [
        _rating("a", ids[("ex000", "generated")], "generated", "silence", 1),  # agrees
        _rating("a", ids[("ex001", "generated")], "generated", "music", 2),  # auto: noise
        _rating("b", ids[("ex001", "generated")], "generated", "noise", 1),  # agrees
        _rating("a", ids[("ex000", "original")], "original", "music", 5),  # agrees
        _rating("b", ids[("ex000", "original")], "original", "music", 4),  # agrees
    ]
    summary = summarize(ratings, trials)
    assert (summary["n_ratings"], summary["n_raters"], summary["n_trials"]) == (5, 2, 6)
    generated = summary["systems"]["generated"]
    assert generated["fit"]["mean"] == pytest.approx(4 / 3)
    assert generated["outcomes"] == pytest.approx(
        {"music": 1 / 3, "silence": 1 / 3, "noise": 1 / 3}
    )
    assert generated["automatic"] == {"music": 0.0, "silence": 0.5, "noise": 0.5}
    assert generated["agreement"]["share"] == pytest.approx(2 / 3)
    assert summary["systems"]["original"]["fit"]["mean"] == 4.5
    shuffled = summary["systems"]["shuffled"]
    assert shuffled["fit"]["n"] == 0 and shuffled["outcomes"]["music"] is None
    overall = summary["agreement"]
    assert overall["n"] == 5 and overall["share"] == pytest.approx(0.8)
    # kappa from the 5 pairs by hand: rater (s, m, n, m, m) vs automatic (s, n, n, m, m).
    p_e = (1 * 1 + 3 * 2 + 1 * 2) / 25
    assert overall["kappa"] == pytest.approx((0.8 - p_e) / (1 - p_e))
    assert not math.isnan(overall["kappa"])
