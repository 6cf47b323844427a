"""GPU checks (marker `gpu`, skipped by default and without CUDA): bf16 autocast paths."""

from __future__ import annotations

import pytest
import torch

from bandmate.model.config import preset_config
from bandmate.model.t5 import T5

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def test_cached_decoding_matches_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    model = T5(preset_config("small", vocab_size=5122, dropout=0.0)).cuda().eval()
    enc = torch.randint(2, 5122, (2, 64), device="cuda")
    dec = torch.randint(2, 5122, (2, 48), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16), torch.no_grad():
        full = model(enc, dec)
        cache = model.init_cache(model.encode(enc), 64)
        steps = torch.cat([model.decode_step(dec[:, i : i + 1], cache) for i in range(48)], 1)
    assert (full.argmax(-1) == steps.argmax(-1)).float().mean() > 0.95


def test_base_trains_at_thesis_lengths() -> None:
    torch.manual_seed(0)
    model = T5(preset_config("base", vocab_size=5122, dropout=0.01)).cuda().train()
    enc = torch.randint(2, 5122, (2, 512), device="cuda")
    dec = torch.randint(2, 5122, (2, 3512), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model(enc, dec)
    loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), dec.flatten())
    loss.backward()
    assert torch.isfinite(loss)
    assert model.decoder_bias.embedding.weight.grad is not None
