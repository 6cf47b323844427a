"""Batches: deterministic order, shapes, micro-batches that tile the global batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bandmate.errors import ConfigError
from bandmate.tokens.layout import PAD_ID
from bandmate.train.config import AugmentConfig, DataConfig
from bandmate.train.data import clip_indices, open_token_data, train_batch


def test_clip_order_is_a_function_of_the_seed() -> None:
    a = clip_indices(3, 10, 0, 30)
    np.testing.assert_array_equal(a, clip_indices(3, 10, 0, 30))
    np.testing.assert_array_equal(a[7:19], clip_indices(3, 10, 7, 12))
    for epoch in range(3):
        assert sorted(a[epoch * 10 : (epoch + 1) * 10]) == list(range(10))
    assert not np.array_equal(a[:10], a[10:20])
    assert not np.array_equal(a, clip_indices(4, 10, 0, 30))


@pytest.mark.parametrize("layout", ["flatten", "delay"])
def test_batch_fields(tokens_dir: Path, layout: str) -> None:
    data = open_token_data(DataConfig(tokens=str(tokens_dir), layout=layout, target_length=40))
    batch = train_batch(data, AugmentConfig(), 0, 0, 4, 0, 1)
    enc, dec = batch["encoder_input_tokens"], batch["decoder_input_tokens"]
    target, weights = batch["decoder_target_tokens"], batch["decoder_loss_weights"]
    assert enc.shape == (4, 7)
    lead = (4,) if layout == "flatten" else (4, 2)
    assert target.shape == dec.shape == weights.shape == (*lead, 40)
    torch.testing.assert_close(dec[..., 1:], target[..., :-1])
    assert (target[weights == 0] == PAD_ID).all()
    assert (weights[..., data.layout.target_steps :] == 0).all()


def test_micro_batches_tile_the_global_batch(tokens_dir: Path) -> None:
    data = open_token_data(DataConfig(tokens=str(tokens_dir)))
    whole = train_batch(data, AugmentConfig(), 5, 2, 6, 0, 1)
    parts = [train_batch(data, AugmentConfig(), 5, 2, 6, m, 3) for m in range(3)]
    for key, value in whole.items():
        torch.testing.assert_close(torch.cat([p[key] for p in parts]), value)


def test_input_noise_changes_inputs(tokens_dir: Path) -> None:
    data = open_token_data(DataConfig(tokens=str(tokens_dir)))
    clean = train_batch(data, AugmentConfig(), 0, 0, 12, 0, 1)["encoder_input_tokens"]
    noisy = train_batch(data, AugmentConfig(0.5), 0, 0, 12, 0, 1)["encoder_input_tokens"]
    changed = (clean != noisy).float().mean()
    assert 0.2 < changed < 0.6  # expected 0.5 * 15/16 * 6/7 = 0.40
    assert (noisy[:, -1] == clean[:, -1]).all()  # EOS kept


def test_input_dropout_replaces_whole_inputs_with_the_null_input(tokens_dir: Path) -> None:
    data = open_token_data(DataConfig(tokens=str(tokens_dir)))
    clean = train_batch(data, AugmentConfig(), 0, 0, 12, 0, 1)
    dropped = train_batch(data, AugmentConfig(input_dropout=0.5), 0, 0, 12, 0, 1)
    inputs = dropped["encoder_input_tokens"]
    null = torch.from_numpy(data.layout.null_input())
    is_null = (inputs == null).all(-1)
    assert 0 < int(is_null.sum()) < 12  # some clips, not all (expected 6)
    torch.testing.assert_close(inputs[~is_null], clean["encoder_input_tokens"][~is_null])
    # only the input changes: the targets are the clip's own
    torch.testing.assert_close(dropped["decoder_target_tokens"], clean["decoder_target_tokens"])


def test_target_token_noise_corrupts_the_past_not_the_labels(tokens_dir: Path) -> None:
    data = open_token_data(DataConfig(tokens=str(tokens_dir)))
    clean = train_batch(data, AugmentConfig(), 0, 0, 12, 0, 1)
    noisy = train_batch(data, AugmentConfig(target_token_noise=0.3), 0, 0, 12, 0, 1)
    torch.testing.assert_close(noisy["decoder_target_tokens"], clean["decoder_target_tokens"])
    past, clean_past = noisy["decoder_input_tokens"], clean["decoder_input_tokens"]
    changed = past != clean_past
    assert 0.15 < changed.float().mean() < 0.35  # 0.3 of the free positions, less collisions
    # every corrupted id is one the layout allows at the position it stands for
    ranges = torch.from_numpy(data.layout.position_ranges())  # [*target_shape, 2]
    length = ranges.shape[-2]
    shifted = torch.full_like(ranges, 0)
    shifted[..., 1:, :] = ranges[..., :-1, :]  # decoder input i repeats target i - 1
    lo, hi = shifted[..., 0], shifted[..., 1]
    ids = past[..., :length]
    assert ((ids >= lo) & (ids < hi))[changed[..., :length]].all()
    # single-id positions (PAD, EOS) are never touched
    assert not changed[..., :length][(hi - lo <= 1).expand_as(ids)].any()


def test_lengths_too_short_are_refused(tokens_dir: Path) -> None:
    with pytest.raises(ConfigError, match="shorter"):
        open_token_data(DataConfig(tokens=str(tokens_dir), target_length=10))
    with pytest.raises(ConfigError, match=r"data\.tokens"):
        open_token_data(DataConfig())


def test_empty_valid_split_means_no_validation(tmp_path: Path) -> None:
    from .conftest import write_tokens

    root = write_tokens(tmp_path / "tokens", n_valid=0)
    assert open_token_data(DataConfig(tokens=str(root))).valid is None


def test_validation_shares_cover_every_clip_once_in_equal_rounds(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from bandmate.train.config import TrainConfig
    from bandmate.train.distributed import Env
    from bandmate.train.loop import valid_batches

    from .conftest import write_tokens

    data = open_token_data(DataConfig(tokens=str(write_tokens(tmp_path / "t", n_valid=5))))
    config = TrainConfig(batch_size=4)  # 2 clips per process and batch
    seen, rounds = [], []
    for rank in range(2):
        env = Env(rank, 2, rank, torch.device("cpu"))
        shares = list(valid_batches(SimpleNamespace(data=data, config=config, env=env)))  # type: ignore[arg-type]
        rounds.append(len(shares))
        for batch, counted in shares:
            if counted:
                seen.extend(tuple(row) for row in batch["encoder_input_tokens"].tolist())
    assert rounds == [2, 2]  # rank 1 repeats a batch (not counted) to keep FSDP in step
    expected = data.layout.encoder_tokens(np.asarray(data.valid.input_semantic))  # type: ignore[union-attr]
    assert sorted(seen) == sorted(tuple(row) for row in expected.tolist())
