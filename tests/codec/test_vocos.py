"""The "stft" (Vocos-style) architecture: exact frame/sample counts, round trips,
chunked processing, float16 weights, and configs of the removed SEANet network."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from bandmate.codec import codec_from_checkpoint
from bandmate.codec.checkpoint import load_model, save_codec
from bandmate.codec.model import CodecConfig, CodecModel
from bandmate.codec.neural import NeuralCodec
from bandmate.codec.vocos import FrameISTFT, FrameSTFT, STFTDecoder, STFTEncoder
from bandmate.errors import BandmateError

TINY_STFT = CodecConfig(
    architecture="stft",
    latent_dim=8,
    codebook_size=32,
    convnext_dim=8,
    convnext_layers=2,
    mlp_mult=2,
)


@pytest.fixture(params=["absolute", "integrated"])
def stft_checkpoint(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    torch.manual_seed(0)
    model = CodecModel(replace(TINY_STFT, stft_phase=request.param))
    model.quantizer.init_kmeans(model.encoder(torch.randn(2, 1, 6400) * 0.1), iters=2)
    save_codec(tmp_path / "stft", model)
    return tmp_path / "stft"


@pytest.mark.parametrize("frames", [1, 2, 7, 75])
def test_stft_then_inverse_gives_back_the_signal(frames: int) -> None:
    wav = torch.randn(2, 1, frames * 320)
    spec = FrameSTFT(320)(wav)
    assert spec.shape == (2, 641, frames)
    out = FrameISTFT(320)(spec)
    assert out.shape == (2, frames * 320)
    torch.testing.assert_close(out, wav[:, 0], atol=1e-5, rtol=1e-4)


def test_modules_map_frames_to_exactly_hop_samples() -> None:
    encoder, decoder = STFTEncoder(TINY_STFT).eval(), STFTDecoder(TINY_STFT)
    latents = encoder(torch.randn(3, 1, 13 * 320))
    assert latents.shape == (3, 8, 13)
    assert decoder(latents).shape == (3, 1, 13 * 320)


@pytest.mark.parametrize("samples", [1, 319, 321, 24_007])
def test_stft_codec_encode_decode_shapes(samples: int) -> None:
    model = CodecModel(TINY_STFT).eval()
    codes = model.encode(torch.randn(2, samples) * 0.1)
    frames = -(-samples // 320)
    assert codes.shape == (2, 4, frames) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < 32
    out = model.decode(codes)
    assert out.shape == (2, frames * 320) and torch.isfinite(out).all()


def test_stft_training_forward_has_gradients_everywhere() -> None:
    model = CodecModel(TINY_STFT).train()
    wav = torch.randn(2, 960) * 0.1
    recon, codes, commitment, _ = model(wav)
    assert recon.shape == wav.shape and codes is not None and codes.shape == (2, 4, 3)
    ((recon - wav).abs().mean() + commitment).backward()
    for name, param in [*model.encoder.named_parameters(), *model.decoder.named_parameters()]:
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_stft_checkpoint_round_trip(stft_checkpoint: Path) -> None:
    config = json.loads((stft_checkpoint / "config.json").read_text())
    assert config["model"]["architecture"] == "stft"
    codec = codec_from_checkpoint(str(stft_checkpoint))
    assert (codec.sample_rate_hz, codec.frame_rate_hz) == (24_000, 75.0)
    wav = torch.randn(1, 24_000 + 5) * 0.1
    codes = codec.encode(wav)
    assert codes.shape == (1, 4, 76)
    assert codec.decode(codes).shape == (1, 76 * 320)


def test_context_covers_the_receptive_field() -> None:
    big = replace(TINY_STFT, convnext_layers=8)
    codec = NeuralCodec(CodecModel(big), "test")
    assert codec.context_frames > big.receptive_frames >= 3 * 9


def test_chunked_stft_codec_matches_one_pass(stft_checkpoint: Path) -> None:
    whole = codec_from_checkpoint(str(stft_checkpoint))
    chunked = NeuralCodec(load_model(stft_checkpoint), whole.spec, chunk_frames=30)
    assert chunked.context_frames >= TINY_STFT.receptive_frames
    wav = torch.randn(1, 100 * 320) * 0.1
    codes = whole.encode(wav)
    assert (chunked.encode(wav) == codes).float().mean() > 0.98
    torch.testing.assert_close(chunked.decode(codes), whole.decode(codes), atol=1e-5, rtol=1e-4)
    # The test can fail: too little context makes the chunk borders differ.
    chunked.context_frames = 1
    assert not torch.allclose(chunked.decode(codes), whole.decode(codes), atol=1e-5)


@pytest.mark.parametrize(("phase", "periodic"), [("absolute", True), ("integrated", False)])
def test_only_integrated_phase_escapes_the_frame_rate(phase: str, periodic: bool) -> None:
    """Constant latents (a steady tone's codes): an absolute-phase decoder repeats one
    frame (a 75 Hz periodic waveform); an integrated phase keeps rotating."""
    torch.manual_seed(0)
    decoder = STFTDecoder(replace(TINY_STFT, stft_phase=phase))
    latents = torch.randn(1, 8, 1).expand(1, 8, 24).contiguous()
    wav = decoder(latents)[0, 0]
    one, next_one = wav[10 * 320 : 11 * 320], wav[11 * 320 : 12 * 320]
    assert torch.allclose(one, next_one, atol=1e-3) == periodic


def test_integrated_phase_continues_from_an_anchor() -> None:
    decoder = STFTDecoder(replace(TINY_STFT, stft_phase="integrated"))
    angles = torch.randn(2, 641, 30)
    whole = decoder.phase(angles)
    tail = decoder.phase(angles[..., 10:], anchor_frame=5, anchor_phase=whole[..., 15])
    # Compare phasors: a phase just below 2 pi and one just above 0 are the same angle.
    torch.testing.assert_close(torch.cos(tail), torch.cos(whole[..., 10:]), atol=1e-4, rtol=0)
    torch.testing.assert_close(torch.sin(tail), torch.sin(whole[..., 10:]), atol=1e-4, rtol=0)


@pytest.mark.parametrize("architecture", ["seanet", None])  # None: the first configs
def test_a_seanet_checkpoint_is_refused_in_one_line(
    stft_checkpoint: Path, architecture: str | None
) -> None:
    """The SEANet network was removed; its checkpoints say so instead of a traceback."""
    path = stft_checkpoint / "config.json"
    data = json.loads(path.read_text())
    del data["model"]["architecture"]
    if architecture:
        data["model"]["architecture"] = architecture
    path.write_text(json.dumps(data))
    with pytest.raises(BandmateError, match="a SEANet codec") as error:
        load_model(stft_checkpoint)
    assert len(str(error.value).splitlines()) == 1


def test_the_seanet_fields_of_earlier_configs_are_ignored(stft_checkpoint: Path) -> None:
    path = stft_checkpoint / "config.json"
    data = json.loads(path.read_text())
    data["model"].update(channels=16, dilations=[1, 3])  # as every earlier config holds
    path.write_text(json.dumps(data))
    config = load_model(stft_checkpoint).config
    assert replace(config, stft_phase=TINY_STFT.stft_phase) == TINY_STFT


def test_unknown_architecture_is_a_config_error(stft_checkpoint: Path) -> None:
    path = stft_checkpoint / "config.json"
    data = json.loads(path.read_text())
    data["model"]["architecture"] = "wavenet"
    path.write_text(json.dumps(data))
    with pytest.raises(BandmateError, match="architecture: must be one of stft, got 'wavenet'"):
        load_model(stft_checkpoint)


def test_float16_weights_load_as_float32(stft_checkpoint: Path) -> None:
    weights = stft_checkpoint / "model.safetensors"
    before = load_model(stft_checkpoint)
    state = load_file(str(weights))
    save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, weights)
    after = load_model(stft_checkpoint)
    for (name, a), (_, b) in zip(
        before.state_dict().items(), after.state_dict().items(), strict=True
    ):
        assert b.dtype == a.dtype, name
        torch.testing.assert_close(a, b, atol=1e-2, rtol=1e-3)
