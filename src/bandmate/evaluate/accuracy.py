"""Teacher-forced scores: token accuracy (the thesis's metric), overall and per part, and
the loss with the clip's own input against another clip's (does the model listen?)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from bandmate.generate.sampling import constrain
from bandmate.model.t5 import T5
from bandmate.tokens.layout import PART_ACOUSTIC, PART_PAD, PART_SEMANTIC, TokenLayout


@torch.no_grad()
def token_scores(
    model: T5,
    layout: TokenLayout,
    input_semantic: np.ndarray,
    target_semantic: np.ndarray,
    target_acoustic: np.ndarray,
    device: torch.device,
    other_input: np.ndarray | None = None,
) -> dict[str, tuple[float, int]]:
    """(sum, count) per score of argmax predictions (over the valid ids) and losses with
    teacher forcing.

    Args:
        input_semantic: raw ids [B, F_sem]; target_semantic [B, F_sem];
        target_acoustic: raw codes [B, K, F_ac].
        other_input: raw ids [B, F_sem] of other clips: also score the targets given them.
    Returns:
        {"token_accuracy": (hits, n), "token_accuracy/semantic": ..., ".../acoustic": ...,
        "token_loss": (nats, n)} and with `other_input` "token_loss/other_input". The
        loss is over the ids valid at each position (the distribution sampling draws from).
    """
    targets = layout.target_tokens(target_semantic, target_acoustic)
    decoder = torch.from_numpy(layout.decoder_inputs(targets)).to(device)
    frames = torch.from_numpy(layout.input_frames())
    parts = np.broadcast_to(layout.parts(), targets.shape)
    valid = torch.from_numpy(layout.valid_mask()).to(device)

    def logits_given(inputs: np.ndarray) -> Tensor:  # [B, L, V] or [B, S, T, V]
        # Invalid ids at -inf: the argmax and the loss then cover only the ids valid at
        # each position, which is what sampling draws from and what training counts (a
        # model trained with the valid-id softmax never trains the other ids' logits,
        # and one of them may well be the largest).
        encoder = torch.from_numpy(layout.encoder_tokens(inputs)).to(device)
        return constrain(model(encoder, decoder, query_frames=frames).float(), valid)

    logits = logits_given(input_semantic)
    correct = logits.argmax(-1).cpu().numpy() == targets
    selections = {
        "token_accuracy": parts != PART_PAD,
        "token_accuracy/semantic": parts == PART_SEMANTIC,
        "token_accuracy/acoustic": parts == PART_ACOUSTIC,
    }
    scores: dict[str, tuple[float, int]] = {
        name: (int(correct[where].sum()), int(where.sum())) for name, where in selections.items()
    }
    target_ids = torch.from_numpy(targets).to(device)
    counted = torch.from_numpy(parts != PART_PAD).to(device)
    scores["token_loss"] = _nats(logits, target_ids, counted)
    if other_input is not None:
        scores["token_loss/other_input"] = _nats(logits_given(other_input), target_ids, counted)
    return scores


def _nats(logits: Tensor, targets: Tensor, counted: Tensor) -> tuple[float, int]:
    """(sum of -log p(target), count) at the counted positions; logits constrained."""
    log_p = torch.log_softmax(logits, dim=-1)
    picked = log_p.gather(-1, targets[..., None])[..., 0]
    return float(-picked[counted].sum()), int(counted.sum())
