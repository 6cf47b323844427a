"""Loss and teacher-forced token accuracy, as sums so they add up across batches/processes."""

from __future__ import annotations

import torch
from torch import Tensor

from bandmate.tokens.layout import PART_ACOUSTIC, PART_SEMANTIC

# Keys of the sums `token_sums` returns; `summarize` turns them into slash-named metrics.
SUM_KEYS = (
    "loss_sum", "weight_sum", "correct", "semantic_correct", "semantic_count",
    "acoustic_correct", "acoustic_count",
)  # fmt: skip


def loss_terms(
    logits: Tensor, targets: Tensor, weights: Tensor, z_loss: float
) -> tuple[Tensor, Tensor]:
    """Weighted mean cross-entropy (+ z-loss) to optimise, and the plain CE sum.

    Args:
        logits: [..., V] (any leading shape: [B, L] or [B, S, T]).
        targets: ids, the leading shape of `logits`.
        weights: float, same shape; 0 at padding.
        z_loss: coefficient of mean(log Z ** 2) (T5X uses 1e-4).
    Returns:
        (loss to backpropagate, sum of weighted CE) — the second for logging.
    """
    flat = logits.float().flatten(0, -2)  # [N, V]
    w = weights.flatten()
    log_z = torch.logsumexp(flat, dim=-1)
    ce = log_z - flat.gather(1, targets.flatten()[:, None])[:, 0]
    ce_sum = (ce * w).sum()
    denom = w.sum().clamp(min=1.0)
    loss = ce_sum / denom
    if z_loss > 0:
        loss = loss + z_loss * (log_z.square() * w).sum() / denom
    return loss, ce_sum.detach()


def token_sums(logits: Tensor, batch: dict[str, Tensor], ce_sum: Tensor) -> dict[str, Tensor]:
    """Counts for loss and accuracy (overall, semantic part, acoustic part) of one batch."""
    targets, weights = batch["decoder_target_tokens"], batch["decoder_loss_weights"]
    parts = batch["decoder_parts"]
    right = (logits.argmax(-1) == targets) & (weights > 0)
    semantic, acoustic = parts == PART_SEMANTIC, parts == PART_ACOUSTIC
    values = (
        ce_sum, weights.sum(), right.sum(), (right & semantic).sum(), semantic.sum(),
        (right & acoustic).sum(), acoustic.sum(),
    )  # fmt: skip
    return {k: v.detach().double() for k, v in zip(SUM_KEYS, values, strict=True)}


def summarize(sums: dict[str, Tensor], prefix: str) -> dict[str, float]:
    """Sums -> `{prefix}/loss`, `{prefix}/accuracy`, `.../accuracy/semantic`, `/acoustic`."""

    def ratio(num: str, den: str) -> float:
        return float(sums[num] / sums[den].clamp(min=1))

    return {
        f"{prefix}/loss": ratio("loss_sum", "weight_sum"),
        f"{prefix}/accuracy": ratio("correct", "weight_sum"),
        f"{prefix}/accuracy/semantic": ratio("semantic_correct", "semantic_count"),
        f"{prefix}/accuracy/acoustic": ratio("acoustic_correct", "acoustic_count"),
    }
