"""Optimizer and learning-rate schedule.

Adafactor is torch's implementation, which is T5X's default recipe: factored second
moments, decay exponent 0.8, update clipping at 1, steps scaled by the parameter RMS and
a relative rate min(lr, 1/sqrt(step)). With lr = 0.01 and a constant schedule that is
T5X's `rsqrt_decay` with 10,000 warm-up steps, the run the thesis used.

The config's choices (optimizer, schedule, two betas for AdamW) are checked when it is
built (`OptimConfig`); the schedule itself is the toolkit's, shared with the codec.
"""

from __future__ import annotations

import torch
from torch import nn

from bandmate.train.config import OptimConfig
from bandmate.train.toolkit import schedule_factor


def build_optimizer(model: nn.Module, config: OptimConfig) -> torch.optim.Optimizer:
    """AdamW (decay on matrices only) or Adafactor over the model's parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.name == "adafactor":
        return torch.optim.Adafactor(params, lr=config.lr, weight_decay=config.weight_decay)
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]  # norm scales
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    beta1, beta2 = config.betas
    return torch.optim.AdamW(groups, lr=config.lr, betas=(beta1, beta2))


def lr_factor(config: OptimConfig, step: int, total_steps: int) -> float:
    """Multiplier of the peak rate at 1-based `step`: linear warm-up, then the schedule."""
    return schedule_factor(
        config.schedule, step, total_steps, config.warmup_steps, config.min_lr_ratio
    )
