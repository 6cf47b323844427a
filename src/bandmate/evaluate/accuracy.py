"""Teacher-forced token accuracy (the thesis's metric), overall and per part."""

from __future__ import annotations

import numpy as np
import torch

from bandmate.model.t5 import T5
from bandmate.tokens.layout import PART_ACOUSTIC, PART_PAD, PART_SEMANTIC, TokenLayout


@torch.no_grad()
def token_hits(
    model: T5,
    layout: TokenLayout,
    input_semantic: np.ndarray,
    target_semantic: np.ndarray,
    target_acoustic: np.ndarray,
    device: torch.device,
) -> dict[str, tuple[int, int]]:
    """(correct, total) of argmax predictions with teacher forcing, per part.

    Args:
        input_semantic: raw ids [B, F_sem]; target_semantic [B, F_sem];
        target_acoustic: raw codes [B, K, F_ac].
    Returns:
        {"token_accuracy": (hits, n), "token_accuracy/semantic": ..., ".../acoustic": ...}
    """
    targets = layout.target_tokens(target_semantic, target_acoustic)
    encoder = torch.from_numpy(layout.encoder_tokens(input_semantic)).to(device)
    decoder = torch.from_numpy(layout.decoder_inputs(targets)).to(device)
    logits = model(encoder, decoder)  # [B, L, V] or [B, S, T, V]
    correct = logits.argmax(-1).cpu().numpy() == targets
    parts = np.broadcast_to(layout.parts(), correct.shape)
    selections = {
        "token_accuracy": parts != PART_PAD,
        "token_accuracy/semantic": parts == PART_SEMANTIC,
        "token_accuracy/acoustic": parts == PART_ACOUSTIC,
    }
    return {
        name: (int(correct[where].sum()), int(where.sum())) for name, where in selections.items()
    }
