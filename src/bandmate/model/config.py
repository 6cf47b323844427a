"""Model configuration and the size presets (tiny for tests, mini for the shipped
models, T5 1.1 small and base).

A config file names a model as a preset plus the fields that differ from it, e.g. a
training config's `model: {preset: mini, dropout: 0.0, aligned_input: true}`
(`T5Config.expand_settings`, `to_settings`; see bandmate.config); checkpoints store every
field (model.json).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from bandmate.config import Count, FieldError, Positive, Range, check_fields
from bandmate.errors import ConfigError


@dataclass(frozen=True)
class T5Config:
    """A T5 1.1 encoder-decoder. Defaults are T5 1.1 base."""

    vocab_size: Count = 5122  # V: ids of the token layout (specials + semantic + codebooks)
    d_model: Count = 768  # D: width of the residual stream
    d_kv: Count = 64  # width of one attention head
    d_ff: Count = 2048  # hidden width of the gated-GELU feed-forward
    num_heads: Count = 12  # H
    num_encoder_layers: Count = 12
    num_decoder_layers: Count = 12
    num_buckets: Count = 32  # relative position buckets
    max_distance: Count = 128  # distances beyond this share the last bucket
    dropout: Annotated[float, Range(0, 1, high_open=True)] = (
        0.1  # everywhere T5 applies dropout (embeddings, residuals, attention)
    )
    norm_eps: Positive = 1e-6  # RMSNorm epsilon
    num_streams: Count = 1  # S: decoder streams, 1 (flatten layout) or K (delay layout)
    # Not in T5: add to each decoder step's input embedding a projection of the encoder's
    # output at the input frame that sounds with it, so the input reaches every step
    # directly, aligned in time. T5's cross-attention sees no positions at all, so it
    # must otherwise find the input frame that sounds with the step it predicts from
    # content alone.
    aligned_input: bool = False
    # Not in T5 either: add to each acoustic step's input embedding a projection of the
    # embedding of the target's own semantic token at the same time. The decoder's
    # relative positions end at `max_distance` steps, and an acoustic step lies at least
    # the semantic part's length (200 steps for 4 s) after the semantic step of its time,
    # so without this it cannot tell which of the semantic tokens it has generated sounds
    # with it.
    aligned_semantic: bool = False

    def __post_init__(self) -> None:
        check_fields(self)
        # T5 spends half the buckets (a quarter, bidirectional) on exact distances and
        # log-spaces the rest up to max_distance, which must lie beyond them.
        if self.num_buckets < 4 or self.max_distance <= self.num_buckets // 2:
            raise FieldError(
                "max_distance",
                f"num_buckets {self.num_buckets} / max_distance {self.max_distance}: need "
                "at least 4 buckets and a max_distance above half of them",
            )

    @property
    def inner_dim(self) -> int:
        return self.num_heads * self.d_kv

    @property
    def preset(self) -> str | None:
        """The name of the preset whose sizes these are, or None."""
        return next((name for name in PRESETS if not self._differing(name)), None)

    def _differing(self, preset: str) -> list[str]:
        """The fields a preset sets to other values than this config's."""
        return [k for k, v in PRESETS[preset].items() if getattr(self, k) != v]

    @classmethod
    def expand_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Field values of a config file's mapping: `preset: NAME` stands for that
        preset's sizes (fields given beside it win). Keys of older files read as they
        were meant: `cross_bias: false` (a feature since removed) and `num_buckets` or
        `max_distance` 0 (the preset's).

        Raises:
            FieldError: an unknown preset, or `cross_bias: true`.
        """
        values = dict(settings)
        if values.pop("cross_bias", False):
            raise FieldError(
                "cross_bias",
                "removed: the time-aligned cross-attention bias changed nothing measured "
                "(docs/experiments/models.md); aligned_input aligns steps with the input",
            )
        for name in ("num_buckets", "max_distance"):
            if values.get(name) == 0:
                del values[name]
        if "preset" in values:
            name = values.pop("preset")
            if not isinstance(name, str) or name not in PRESETS:
                choices = ", ".join(PRESETS)
                raise FieldError("preset", f"must be one of {choices}, got {name!r}")
            values = {**PRESETS[name], **values}
        return values

    def to_settings(self) -> dict[str, Any]:
        """The fields as a config file writes them: `preset` (the one closest in sizes),
        then every field that it does not set to the same value, in field order."""
        closest = min(PRESETS, key=lambda name: len(self._differing(name)))
        differing = self._differing(closest)
        fields = dataclasses.asdict(self)
        kept = {k: v for k, v in fields.items() if k not in PRESETS[closest] or k in differing}
        return {"preset": closest, **kept}


# Every preset sets the same fields: the model's sizes. Its vocabulary and streams come
# from the tokens; dropout and the time-aligned inputs are training choices.
PRESET_FIELDS = (
    "d_model", "d_kv", "d_ff", "num_heads", "num_encoder_layers", "num_decoder_layers",
    "num_buckets", "max_distance",
)  # fmt: skip
PRESETS: dict[str, dict[str, int]] = {
    name: dict(zip(PRESET_FIELDS, sizes, strict=True))
    for name, sizes in {
        # d_model, d_kv, d_ff, heads, encoder and decoder layers, buckets, max_distance
        "tiny": (32, 8, 64, 4, 2, 2, 8, 32),  # for tests
        # The shipped models: trained in about half an hour on two CPU cores (4 M
        # parameters with the delay layout's vocabulary, 16 MB as float32).
        "mini": (128, 32, 384, 4, 3, 3, 32, 128),
        # T5 1.1 small and base, as published (google/t5-v1_1-small, -base).
        "small": (512, 64, 1024, 6, 8, 8, 32, 128),
        "base": (768, 64, 2048, 12, 12, 12, 32, 128),
    }.items()
}


def preset_config(name: str, vocab_size: int, **overrides: Any) -> T5Config:
    """The config of a named preset with the layout's vocabulary and any field overrides.

    Args:
        name: "tiny", "mini", "small" or "base".
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
