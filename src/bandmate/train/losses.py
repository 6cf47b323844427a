"""Loss and teacher-forced token accuracy, as sums so they add up across batches/processes.

Two softmaxes (TrainConfig.softmax):
- `full`: over the whole vocabulary at every position (the thesis);
- `valid`: over the ids valid at each position only, the distribution constrained
  sampling draws from. The output layer then multiplies only those rows (1,024 of the
  5,122 ids at an acoustic position with 1,024 semantic clusters), which made a CPU
  step of the mini preset in the delay layout 3.6x faster
  (benchmarks/train_throughput.py --layout delay).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from bandmate.model.t5 import HeadGroup
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


def head_groups(ranges: np.ndarray, device: torch.device) -> list[HeadGroup]:
    """The layout's valid-id ranges [L, 2] or [S, T, 2] -> one HeadGroup per stream and
    range with more than one id (positions with a single valid id, PAD or EOS, have
    nothing to learn and are left out)."""
    per_stream = ranges[None] if ranges.ndim == 2 else ranges
    groups = []
    for stream, stream_ranges in enumerate(per_stream):
        for lo, hi in np.unique(stream_ranges, axis=0):
            if hi - lo > 1:
                where = np.flatnonzero((stream_ranges[:, 0] == lo) & (stream_ranges[:, 1] == hi))
                positions = torch.from_numpy(where).to(device)
                groups.append(HeadGroup(stream, int(lo), int(hi), positions))
    return groups


def valid_loss_terms(
    logits: list[Tensor], groups: list[HeadGroup], targets: Tensor, weights: Tensor, z_loss: float
) -> tuple[Tensor, Tensor, Tensor]:
    """`loss_terms` for the valid-id softmax, from one logits tensor per group.

    Args:
        logits: per group [B, n, hi - lo] (`T5.forward(..., groups=groups)`).
        groups: from `head_groups`.
        targets, weights: [B, L] or [B, S, T].
    Returns:
        (loss to backpropagate, sum of weighted CE, right: bool like `targets`, True
        where the argmax over the valid ids is the target).
    """
    streams = targets if targets.dim() == 3 else targets[:, None]
    stream_weights = weights if weights.dim() == 3 else weights[:, None]
    right = stream_weights > 0  # single-id positions are always right
    ce_sum = z_sum = targets.new_zeros((), dtype=torch.float32)
    for group, group_logits in zip(groups, logits, strict=True):
        target = streams[:, group.stream, group.positions] - group.lo  # [B, n]
        w = stream_weights[:, group.stream, group.positions]
        flat = group_logits.float()
        log_z = torch.logsumexp(flat, dim=-1)
        safe = target.clamp(0, group.hi - group.lo - 1)  # PAD targets carry zero weight
        ce = log_z - flat.gather(-1, safe[..., None])[..., 0]
        ce_sum = ce_sum + (ce * w).sum()
        z_sum = z_sum + (log_z.square() * w).sum()
        hit = (flat.argmax(-1) == target) & (w > 0)
        right[:, group.stream, group.positions] = hit
    denom = weights.sum().clamp(min=1.0)
    loss = ce_sum / denom + (z_loss * z_sum / denom if z_loss > 0 else 0.0)
    return loss, ce_sum.detach(), right.view_as(targets)


def right_of(logits: Tensor, batch: dict[str, Tensor]) -> Tensor:
    """Bool like the targets: the full-vocabulary argmax is the target (and counted)."""
    targets, weights = batch["decoder_target_tokens"], batch["decoder_loss_weights"]
    return (logits.argmax(-1) == targets) & (weights > 0)


def token_sums(right: Tensor, batch: dict[str, Tensor], ce_sum: Tensor) -> dict[str, Tensor]:
    """Counts for loss and accuracy (overall, semantic part, acoustic part) of one batch,
    from `right` (bool like the targets: predicted and counted)."""
    weights, parts = batch["decoder_loss_weights"], batch["decoder_parts"]
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
