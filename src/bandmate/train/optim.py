"""Optimizer and learning-rate schedule.

Adafactor is torch's implementation, which is T5X's default recipe: factored second
moments, decay exponent 0.8, update clipping at 1, steps scaled by the parameter RMS and
a relative rate min(lr, 1/sqrt(step)). With lr = 0.01 and a constant schedule that is
T5X's `rsqrt_decay` with 10,000 warm-up steps, the run the thesis used.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bandmate.errors import ConfigError
from bandmate.train.config import OptimConfig

SCHEDULES = ("constant", "cosine", "rsqrt")


def build_optimizer(model: nn.Module, config: OptimConfig) -> torch.optim.Optimizer:
    """AdamW (decay on matrices only) or Adafactor over the model's parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.name == "adafactor":
        return torch.optim.Adafactor(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.name != "adamw":
        raise ConfigError(f"optim.name: unknown optimizer {config.name!r}; use adamw or adafactor")
    if len(config.betas) != 2:
        raise ConfigError(f"optim.betas: expected two numbers, got {list(config.betas)}")
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
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"optim.schedule: unknown {config.schedule!r}; use {SCHEDULES}")
    warmup = config.warmup_steps
    if warmup and step < warmup:
        return step / warmup
    if config.schedule == "cosine":
        span = max(1, total_steps - warmup)
        progress = min(1.0, (step - warmup) / span)
        floor = config.min_lr_ratio
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "rsqrt":
        return math.sqrt(max(warmup, 1) / max(step, 1))
    return 1.0


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
