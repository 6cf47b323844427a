from __future__ import annotations

import pytest
import torch

from bandmate.codec.model import CodecConfig, CodecModel


def test_default_config_is_the_thesis_token_shape() -> None:
    config = CodecConfig()
    assert config.hop_length == 320
    assert config.frame_rate_hz == 75.0
    assert (config.num_codebooks, config.codebook_size) == (4, 1024)
    # 4 codebooks x 10 bits x 75 Hz = 3 kbps
    assert config.num_codebooks * 10 * config.frame_rate_hz == 3000


def test_default_model_size_fits_the_shipped_budget() -> None:
    params = sum(p.numel() for p in CodecModel(CodecConfig()).parameters())
    assert 1_000_000 < params < 10_000_000  # <= 20 MB as shipped (float16 but the codebooks)


@pytest.mark.parametrize("samples", [1, 319, 321, 24_007])
def test_encode_decode_shapes_for_any_length(tiny_config: CodecConfig, samples: int) -> None:
    model = CodecModel(tiny_config).eval()
    codes = model.encode(torch.randn(3, samples) * 0.1)
    frames = -(-samples // 320)
    assert codes.shape == (3, tiny_config.num_codebooks, frames)
    assert codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < tiny_config.codebook_size
    assert model.decode(codes).shape == (3, frames * 320)


def test_training_forward_returns_same_length_and_gradients(tiny_config: CodecConfig) -> None:
    model = CodecModel(tiny_config).train()
    wav = torch.randn(2, 640) * 0.1
    recon, codes, commitment, stats = model(wav)
    assert recon.shape == wav.shape and codes.shape == (2, 4, 2)
    assert "vq/used_0" in stats
    ((recon - wav).abs().mean() + commitment).backward()
    grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None for g in grads) and any(
        g.abs().sum() > 0 for g in grads if g is not None
    )


def test_eval_forward_leaves_codebooks_alone(tiny_config: CodecConfig) -> None:
    model = CodecModel(tiny_config).eval()
    before = model.quantizer.layers[0].embed.clone()
    model(torch.randn(1, 960))
    assert torch.equal(before, model.quantizer.layers[0].embed)
