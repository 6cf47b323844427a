"""Loss and accuracy sums."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bandmate.model.config import preset_config
from bandmate.model.t5 import T5
from bandmate.tokens.layout import PART_ACOUSTIC, PART_SEMANTIC, TokenLayout
from bandmate.train.config import OptimConfig
from bandmate.train.losses import (
    head_groups,
    loss_terms,
    right_of,
    summarize,
    token_sums,
    valid_loss_terms,
)
from bandmate.train.optim import lr_factor


def test_loss_is_cross_entropy_and_z_loss_adds() -> None:
    logits = torch.randn(2, 5, 11)
    targets = torch.randint(0, 11, (2, 5))
    weights = torch.ones(2, 5)
    loss, ce_sum = loss_terms(logits, targets, weights, 0.0)
    expected = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(ce_sum / 10, expected)
    with_z, _ = loss_terms(logits, targets, weights, 0.1)
    z = torch.logsumexp(logits, -1).square().mean()
    torch.testing.assert_close(with_z, expected + 0.1 * z)
    weights[:, 3:] = 0  # padding does not count
    masked, _ = loss_terms(logits, targets, weights, 0.0)
    torch.testing.assert_close(
        masked, F.cross_entropy(logits[:, :3].flatten(0, 1), targets[:, :3].flatten())
    )


def test_accuracy_by_part() -> None:
    targets = torch.tensor([[2, 3, 4, 5]])
    logits = F.one_hot(torch.tensor([[2, 0, 4, 0]]), 6).float()
    batch = {
        "decoder_target_tokens": targets,
        "decoder_loss_weights": torch.ones(1, 4),
        "decoder_parts": torch.tensor(
            [[PART_SEMANTIC, PART_SEMANTIC, PART_ACOUSTIC, PART_ACOUSTIC]]
        ),
    }
    metrics = summarize(token_sums(right_of(logits, batch), batch, torch.tensor(2.0)), "valid")
    assert metrics["valid/accuracy"] == 0.5
    assert metrics["valid/accuracy/semantic"] == 0.5
    assert metrics["valid/accuracy/acoustic"] == 0.5
    assert metrics["valid/loss"] == 0.5


def test_schedules() -> None:
    cosine = OptimConfig(schedule="cosine", warmup_steps=10, min_lr_ratio=0.1)
    assert lr_factor(cosine, 5, 100) == 0.5
    assert lr_factor(cosine, 10, 100) == 1.0
    assert abs(lr_factor(cosine, 100, 100) - 0.1) < 1e-9
    rsqrt = OptimConfig(schedule="rsqrt", warmup_steps=100)
    assert lr_factor(rsqrt, 400, 1000) == 0.5


def _batch(layout: TokenLayout, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(encoder ids, decoder inputs, targets) of n random clips in `layout`."""
    rng = np.random.default_rng(0)
    semantic = rng.integers(0, layout.semantic_vocab_size, (n, layout.semantic_frames))
    acoustic = rng.integers(
        0, layout.codebook_size, (n, layout.num_codebooks, layout.acoustic_frames)
    )
    targets = layout.target_tokens(semantic, acoustic)
    return (
        torch.from_numpy(layout.encoder_tokens(semantic)),
        torch.from_numpy(layout.decoder_inputs(targets)),
        torch.from_numpy(targets),
    )


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_valid_softmax_equals_full_logits_masked_to_valid_ids(kind: str) -> None:
    layout = TokenLayout(kind, 6, 3, 5, 4, 3)
    torch.manual_seed(0)
    model = T5(preset_config("tiny", layout.vocab_size, num_streams=layout.num_streams))
    model.eval()
    encoder, decoder, targets = _batch(layout, 2)
    weights = torch.from_numpy(layout.loss_weights()).expand_as(targets).clone()
    groups = head_groups(layout.position_ranges(), torch.device("cpu"))
    loss, ce_sum, right = valid_loss_terms(
        model(encoder, decoder, None, groups), groups, targets, weights, 1e-3
    )
    # The same sums from the full logits with every invalid id masked out.
    full = model(encoder, decoder)
    valid = torch.from_numpy(layout.valid_mask()).expand_as(full)
    masked = full.masked_fill(~valid, float("-inf"))
    log_z = torch.logsumexp(masked, -1)
    ce = log_z - masked.gather(-1, targets[..., None])[..., 0]
    torch.testing.assert_close(ce_sum, (ce * weights).sum())
    expected = (ce * weights).sum() / weights.sum()
    ranges = layout.position_ranges()
    scored = torch.from_numpy(ranges[..., 1] - ranges[..., 0] > 1)  # EOS: nothing to learn
    z = (log_z.square() * weights * scored).sum()
    expected = expected + 1e-3 * z / weights.sum()
    torch.testing.assert_close(loss, expected)
    assert torch.equal(right, (masked.argmax(-1) == targets) & (weights > 0))


def test_valid_softmax_skips_single_id_positions() -> None:
    layout = TokenLayout("delay", 6, 3, 5, 4, 3)
    groups = head_groups(layout.position_ranges(), torch.device("cpu"))
    # stream 0: semantic + codebook 0; streams 1, 2: their codebook. EOS and PAD: none.
    assert [(g.stream, g.hi - g.lo) for g in groups] == [(0, 6), (0, 5), (1, 5), (2, 5)]
    assert sum(len(g.positions) for g in groups) == 4 + 3 * 3
