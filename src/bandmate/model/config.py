"""Model configuration and the size presets (tiny for tests, mini for the shipped
models, T5 1.1 small and base)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bandmate.errors import ConfigError


@dataclass(frozen=True)
class T5Config:
    """A T5 1.1 encoder-decoder. Defaults are T5 1.1 base."""

    vocab_size: int = 5122  # V: ids of the token layout (specials + semantic + codebooks)
    d_model: int = 768  # D: width of the residual stream
    d_kv: int = 64  # width of one attention head
    d_ff: int = 2048  # hidden width of the gated-GELU feed-forward
    num_heads: int = 12  # H
    num_encoder_layers: int = 12
    num_decoder_layers: int = 12
    num_buckets: int = 32  # relative position buckets
    max_distance: int = 128  # distances beyond this share the last bucket
    dropout: float = 0.1  # everywhere T5 applies dropout (embeddings, residuals, attention)
    norm_eps: float = 1e-6  # RMSNorm epsilon
    num_streams: int = 1  # S: decoder streams, 1 (flatten layout) or K (delay layout)
    # Not in T5 (nor the thesis): a learned bias of cross-attention by the distance in time
    # between a decoder step and each input frame (`TokenLayout.input_frames`). T5's
    # cross-attention sees no positions at all, so it must find the input frame that
    # sounds with the step it predicts from content alone.
    cross_bias: bool = False
    # Not in T5 either: add to each decoder step's input embedding a projection of the
    # encoder's output at the input frame that sounds with it, so the input reaches every
    # step directly, aligned in time, without attention having to find it.
    aligned_input: bool = False
    # Not in T5 either: add to each acoustic step's input embedding a projection of the
    # embedding of the target's own semantic token at the same time. The decoder's
    # relative positions end at `max_distance` steps, and an acoustic step lies at least
    # the semantic part's length (200 steps for 4 s) after the semantic step of its time,
    # so without this it cannot tell which of the semantic tokens it has generated sounds
    # with it.
    aligned_semantic: bool = False

    def __post_init__(self) -> None:
        # T5 spends half the buckets (a quarter, bidirectional) on exact distances and
        # log-spaces the rest up to max_distance, which must lie beyond them.
        if self.num_buckets < 4 or self.max_distance <= self.num_buckets // 2:
            raise ConfigError(
                f"num_buckets {self.num_buckets} / max_distance {self.max_distance}: need "
                "at least 4 buckets and a max_distance above half of them"
            )

    @property
    def inner_dim(self) -> int:
        return self.num_heads * self.d_kv


PRESETS: dict[str, dict[str, int]] = {
    "tiny": dict(
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_heads=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        num_buckets=8,
        max_distance=32,
    ),
    # The shipped models: trained in about half an hour on two CPU cores (4 M parameters
    # with the delay layout's vocabulary, 16 MB as float32).
    "mini": dict(
        d_model=128,
        d_kv=32,
        d_ff=384,
        num_heads=4,
        num_encoder_layers=3,
        num_decoder_layers=3,
    ),
    # T5 1.1 small and base, as published (google/t5-v1_1-small, -base).
    "small": dict(
        d_model=512, d_kv=64, d_ff=1024, num_heads=6, num_encoder_layers=8, num_decoder_layers=8
    ),
    "base": dict(
        d_model=768, d_kv=64, d_ff=2048, num_heads=12, num_encoder_layers=12, num_decoder_layers=12
    ),
}


def preset_config(name: str, vocab_size: int, **overrides: Any) -> T5Config:
    """The config of a named preset with the layout's vocabulary and any field overrides.

    Args:
        name: "tiny", "small" or "base".
        vocab_size: V from the token layout.
        overrides: other T5Config fields (dropout, num_streams, ...).
    """
    if name not in PRESETS:
        raise ConfigError(f"unknown model preset {name!r}; choose one of {', '.join(PRESETS)}")
    fields = {f.name for f in dataclasses.fields(T5Config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(f"unknown model field(s) {', '.join(unknown)}")
    return T5Config(vocab_size=vocab_size, **{**PRESETS[name], **overrides})
