from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bandmate.codec import codec_from_checkpoint
from bandmate.codec.checkpoint import load_model, save_codec
from bandmate.codec.model import CodecConfig, CodecModel
from bandmate.codec.neural import NeuralCodec, shipped_checkpoint
from bandmate.errors import BandmateError
from bandmate.tokens.interfaces import AcousticCodec


@pytest.fixture
def checkpoint(tmp_path: Path, tiny_config: CodecConfig) -> Path:
    torch.manual_seed(0)
    model = CodecModel(tiny_config)
    model.quantizer.init_kmeans(model.encoder(torch.randn(2, 1, 3200) * 0.1), iters=2)
    save_codec(tmp_path / "ckpt", model)
    return tmp_path / "ckpt"


def test_checkpoint_round_trip_keeps_weights(checkpoint: Path) -> None:
    files = sorted(p.name for p in checkpoint.iterdir())
    assert files == ["config.json", "model.safetensors"]
    first, second = load_model(checkpoint), load_model(checkpoint)
    for (name, a), (_, b) in zip(
        first.state_dict().items(), second.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert json.loads((checkpoint / "config.json").read_text())["model"]["codebook_size"] == 32


def test_loaded_codec_follows_the_interface(checkpoint: Path) -> None:
    codec: AcousticCodec = codec_from_checkpoint(str(checkpoint))
    assert codec.spec == f"bandmate:{checkpoint}"
    assert (codec.sample_rate_hz, codec.frame_rate_hz) == (24_000, 75.0)
    assert (codec.num_codebooks, codec.codebook_size) == (4, 32)
    wav = torch.randn(2, 24_000 + 17) * 0.1
    codes = codec.encode(wav)
    assert codes.shape == (2, 4, 76) and codes.dtype == torch.int64
    out = codec.decode(codes)
    assert out.shape == (2, 76 * 320) and out.dtype == torch.float32
    assert torch.equal(codec.encode(wav), codes)  # deterministic


def test_prefixed_spec_loads_the_same_checkpoint(checkpoint: Path) -> None:
    prefixed = codec_from_checkpoint(f"bandmate:{checkpoint}")
    assert prefixed.spec == codec_from_checkpoint(str(checkpoint)).spec


def test_chunked_processing_matches_one_pass(checkpoint: Path) -> None:
    whole = codec_from_checkpoint(str(checkpoint))
    assert isinstance(whole, NeuralCodec)
    chunked = NeuralCodec(load_model(checkpoint), whole.spec, chunk_frames=20)
    wav = torch.randn(1, 75 * 320) * 0.1
    codes = whole.encode(wav)
    # Latents agree to ~1e-7; a random tiny codebook may hold a near-tie that flips.
    agree = (chunked.encode(wav) == codes).float().mean()
    assert agree > 0.98
    torch.testing.assert_close(chunked.decode(codes), whole.decode(codes), atol=1e-5, rtol=1e-4)


def test_decode_rejects_codes_out_of_range(checkpoint: Path) -> None:
    codec = codec_from_checkpoint(str(checkpoint))
    with pytest.raises(ValueError, match="codes must lie"):
        codec.decode(torch.full((1, 4, 3), 32))


def test_missing_checkpoint_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(BandmateError, match="not found") as info:
        codec_from_checkpoint(str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "model.safetensors").unlink(), "weights missing"),
        (lambda d: (d / "model.safetensors").write_bytes(b"junk"), "unreadable safetensors"),
        (lambda d: (d / "config.json").write_text("{"), "malformed JSON"),
        (lambda d: (d / "config.json").write_text('{"format": "x"}'), "not a bandmate-codec"),
        (lambda d: (d / "config.json").unlink(), "config missing"),
    ],
)
def test_damaged_checkpoint_names_the_file(checkpoint: Path, damage, message: str) -> None:
    damage(checkpoint)
    with pytest.raises(BandmateError, match=message) as info:
        codec_from_checkpoint(str(checkpoint))
    assert str(checkpoint) in str(info.value)


def test_weights_of_another_shape_are_rejected(checkpoint: Path) -> None:
    config = json.loads((checkpoint / "config.json").read_text())
    config["model"]["latent_dim"] = 16
    (checkpoint / "config.json").write_text(json.dumps(config))
    with pytest.raises(BandmateError, match="do not fit the config"):
        codec_from_checkpoint(str(checkpoint))


def test_shipped_default_codec_loads_offline() -> None:
    codec = codec_from_checkpoint("default")
    assert codec.spec == "bandmate:default"
    assert (codec.num_codebooks, codec.codebook_size, codec.frame_rate_hz) == (4, 1024, 75.0)
    codes = codec.encode(torch.zeros(1, 4800))
    assert codes.shape == (1, 4, 15)
    assert codec_from_checkpoint("bandmate:default").spec == "bandmate:default"


def test_shipped_default_codec_fits_the_package_limit() -> None:
    """Issue #5: the shipped checkpoint is at most 20 MB and comes with its model card."""
    folder = shipped_checkpoint()
    assert (folder / "model.safetensors").stat().st_size <= 20 * 1024**2
    assert (folder / "MODEL_CARD.md").is_file()
