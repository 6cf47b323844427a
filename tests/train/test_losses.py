"""Loss and accuracy sums."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bandmate.tokens.layout import PART_ACOUSTIC, PART_SEMANTIC
from bandmate.train.config import OptimConfig
from bandmate.train.losses import loss_terms, summarize, token_sums
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
    metrics = summarize(token_sums(logits, batch, torch.tensor(2.0)), "valid")
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
