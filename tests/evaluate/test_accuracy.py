"""Teacher-forced scores: accuracy per part, loss over valid ids, another clip's input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bandmate.evaluate.accuracy import token_scores
from bandmate.model.config import preset_config
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout


def tiny(kind: str) -> tuple[TokenLayout, T5]:
    """A small layout (8 semantic ids, 2 codebooks of 4) and a random tiny T5 for it."""
    layout = TokenLayout(kind, 8, 2, 4, semantic_frames=6, acoustic_frames=9)
    torch.manual_seed(0)
    config = preset_config("tiny", layout.vocab_size, num_streams=layout.num_streams)
    return layout, T5(config).eval()


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_loss_is_the_cross_entropy_over_valid_ids(kind: str) -> None:
    layout, model = tiny(kind)
    rng = np.random.default_rng(0)
    inputs, other = rng.integers(0, 8, (2, 2, 6))
    semantic, codes = rng.integers(0, 8, (2, 6)), rng.integers(0, 4, (2, 2, 9))
    device = torch.device("cpu")
    scores = token_scores(model, layout, inputs, semantic, codes, device, other)

    targets = layout.target_tokens(semantic, codes)
    encoder = torch.from_numpy(layout.encoder_tokens(inputs))
    with torch.no_grad():
        logits = model(encoder, torch.from_numpy(layout.decoder_inputs(targets)))
    valid = torch.from_numpy(layout.valid_mask())
    log_p = torch.log_softmax(logits.masked_fill(~valid, float("-inf")), -1)
    picked = log_p.gather(-1, torch.from_numpy(targets)[..., None])[..., 0]
    counted = torch.from_numpy(layout.loss_weights() > 0).expand_as(picked)
    nats, n = scores["token_loss"]
    assert n == int(counted.sum()) == scores["token_accuracy"][1]
    assert nats == pytest.approx(float(-picked[counted].sum()), rel=1e-5)
    # another clip's input changes the loss; the same input does not
    assert scores["token_loss/other_input"][0] != pytest.approx(nats, rel=1e-6)
    same = token_scores(model, layout, inputs, semantic, codes, device, inputs)
    assert same["token_loss/other_input"] == same["token_loss"]


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_accuracy_takes_the_argmax_over_valid_ids(kind: str) -> None:
    # A model trained with the valid-id softmax never trains the other ids' logits; an
    # invalid id with the largest logit must not count as a miss.
    layout, model = tiny(kind)
    rng = np.random.default_rng(1)
    inputs = rng.integers(0, 8, (2, 6))
    semantic, codes = rng.integers(0, 8, (2, 6)), rng.integers(0, 4, (2, 2, 9))
    targets = torch.from_numpy(layout.target_tokens(semantic, codes))
    valid = torch.from_numpy(layout.valid_mask())
    counted = torch.from_numpy(layout.loss_weights() > 0)

    def rigged(*args: object, **kwargs: object) -> torch.Tensor:
        # the target is the best valid id everywhere; an invalid id is larger still
        logits = torch.zeros(*targets.shape, layout.vocab_size)
        logits.scatter_(-1, targets[..., None], 5.0)
        return logits.masked_fill(~valid, 9.0)

    model.forward = rigged  # type: ignore[method-assign]
    scores = token_scores(model, layout, inputs, semantic, codes, torch.device("cpu"))
    hits, n = scores["token_accuracy"]
    assert n == int(counted.expand_as(targets).sum())
    assert hits == n
    assert scores["token_accuracy/semantic"][0] == scores["token_accuracy/semantic"][1] > 0
