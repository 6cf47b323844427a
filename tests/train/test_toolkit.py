"""The training toolkit both loops share: schedule, RNG state, metric records, curves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bandmate.train.toolkit import (
    plot_series,
    read_records,
    restore_rng,
    rng_state,
    schedule_factor,
    series,
    write_records,
)


def test_schedules_warm_up_then_decay() -> None:
    assert schedule_factor("constant", 5, 100, 10) == 0.5
    assert schedule_factor("constant", 50, 100, 10) == 1.0
    assert schedule_factor("cosine", 100, 100, 10, min_lr_ratio=0.1) == pytest.approx(0.1)
    assert schedule_factor("rsqrt", 400, 1000, 100) == 0.5
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        schedule_factor("linear", 50, 100, 10)


def test_a_restored_rng_draws_again_what_it_drew() -> None:
    state = rng_state()
    first = torch.rand(3)
    restore_rng(state)
    assert torch.equal(torch.rand(3), first)


def test_records_round_trip_and_series_keep_numbers_only(tmp_path: Path) -> None:
    records = [{"step": 1, "loss": 2.0, "note": "x"}, {"step": 2, "loss": 1.5, "ok": True}]
    write_records(tmp_path / "m.jsonl", records)
    assert read_records(tmp_path / "m.jsonl") == records
    assert series(records) == {"loss": ([1, 2], [2.0, 1.5])}


def test_a_plot_is_written_only_with_data(tmp_path: Path) -> None:
    curves = series([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}])
    assert not plot_series(curves, ["accuracy"], tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
    assert plot_series(curves, ["loss", "accuracy"], tmp_path / "loss.png", "loss", log_y=True)
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
