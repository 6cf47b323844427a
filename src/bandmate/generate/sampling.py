"""Constrained sampling of the next token: layout mask, temperature, top-k, top-p.

Letters: B batch, S streams, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from bandmate.config import NonNegative, NonNegativeInt, Share, check_fields


@dataclass(frozen=True)
class SamplingConfig:
    temperature: NonNegative = 1.0  # 0 means greedy (argmax)
    top_k: NonNegativeInt = 250  # keep the k most likely ids (0 = all); MusicGen's default
    top_p: Share = 0.0  # keep the smallest set with this much mass (0 = off)
    # classifier-free guidance: logits + g * (logits - logits given the null input);
    # 0 = off, None = the checkpoint's own weight (`bandmate export --guidance`), else 0.
    # Needs a model trained with augment.input_dropout.
    guidance: NonNegative | None = None

    def __post_init__(self) -> None:
        # NaN or infinity would turn every probability into NaN deep inside decoding.
        check_fields(self)  # a FieldError (a ValueError) naming the field

    def with_default_guidance(self, guidance: float) -> SamplingConfig:
        """These settings with `guidance` filled in where none was chosen."""
        return self if self.guidance is not None else replace(self, guidance=guidance)


def constrain(logits: Tensor, valid: Tensor) -> Tensor:
    """Set the logits of ids invalid at this position to -inf.

    Args:
        logits: [..., V] float.
        valid: bool [..., V] broadcastable to logits; True where the id is allowed.
    """
    return logits.masked_fill(~valid, float("-inf"))


def _drop_beyond_p(sorted_logits: Tensor, p: float) -> Tensor:
    """Logits sorted in descending order [..., k] with the ids beyond nucleus p at -inf."""
    if p <= 0.0 or p >= 1.0:
        return sorted_logits
    probs = torch.softmax(sorted_logits, dim=-1)
    # Drop an id once the mass before it already reaches p (the top id always stays).
    drop = (probs.cumsum(-1) - probs) >= p
    return sorted_logits.masked_fill(drop, float("-inf"))


def sample(
    logits: Tensor, valid: Tensor, config: SamplingConfig, generator: torch.Generator | None = None
) -> Tensor:
    """Draw one id per row from constrained, filtered logits.

    Args:
        logits: [B, V] or [B, S, V].
        valid: bool mask broadcastable to logits (e.g. [V] or [S, V]).
        config: temperature / top-k / top-p.
        generator: the random stream (same seed -> same ids).
    Returns:
        ids, int64 of logits' shape without V; always valid for their position.
    """
    logits = constrain(logits.float(), valid)
    if config.temperature == 0.0:
        return logits.argmax(-1)
    vocab = logits.shape[-1]
    k = config.top_k if 0 < config.top_k < vocab else vocab
    # Draw among the k best only, sorted (top-p needs them so): the same distribution
    # as masking the rest of the vocabulary, but a multinomial over all V ids took a
    # fifth of a window's decoding in a profile (benchmarks/sampling_speed.py: 1.15-1.42x).
    top, order = torch.topk(logits / config.temperature, k, dim=-1)
    probs = torch.softmax(_drop_beyond_p(top, config.top_p), dim=-1)
    pick = torch.multinomial(probs.reshape(-1, k), 1, generator=generator)
    return order.gather(-1, pick.view(*probs.shape[:-1], 1))[..., 0]
