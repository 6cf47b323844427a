"""The two tokenizer interfaces every implementation follows.

Letters: B batch, S samples, F frames, K codebooks.
"""

from __future__ import annotations

from typing import Protocol

import torch


class AcousticCodec(Protocol):
    """Audio <-> residual-VQ codes (EnCodec, or the project's own codec).

    `spec` names the codec in one string stored with every token set and checkpoint
    (e.g. `encodec:facebook/encodec_24khz@3kbps`, `bandmate:default`), so generation
    always decodes with the codec the model was trained on.
    """

    spec: str
    sample_rate_hz: int
    frame_rate_hz: float
    num_codebooks: int
    codebook_size: int

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] mono at `sample_rate_hz` -> codes [B, K, F] int64 in [0, codebook_size)."""
        ...

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, F] -> wav [B, S] float at `sample_rate_hz`."""
        ...


class SemanticTokenizer(Protocol):
    """Audio -> one stream of cluster ids at `frame_rate_hz` (50 Hz by default)."""

    spec: str
    sample_rate_hz: int
    frame_rate_hz: float
    vocab_size: int

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] mono float at `sample_rate_hz` -> ids [B, F] int64 in [0, vocab_size)."""
        ...
