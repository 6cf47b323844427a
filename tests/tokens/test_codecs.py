import sys
import types
from pathlib import Path

import pytest
import torch

from bandmate.errors import BandmateError
from bandmate.tokens.codecs import EncodecCodec, codec_from_spec, parse_codec_spec
from tests.tokens.conftest import tiny_encodec


def test_spec_parsing_round_trips_and_defaults_to_3kbps():
    spec = parse_codec_spec("encodec:facebook/encodec_24khz@6kbps")
    assert (spec.kind, spec.source, spec.bandwidth_kbps) == (
        "encodec",
        "facebook/encodec_24khz",
        6.0,
    )
    assert str(spec) == "encodec:facebook/encodec_24khz@6kbps"
    assert str(parse_codec_spec("encodec:/models/enc")) == "encodec:/models/enc@3kbps"
    assert str(parse_codec_spec("encodec:/m@1.5kbps")) == "encodec:/m@1.5kbps"
    assert str(parse_codec_spec("bandmate:default")) == "bandmate:default"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("encodec", "expected"),
        ("opus:x", "unknown codec kind"),
        ("encodec:x@5kbps", "not one of"),
        ("encodec:x@fast", "bad bandwidth"),
    ],
)
def test_bad_specs_are_user_errors(spec: str, message: str):
    with pytest.raises(BandmateError, match=message):
        parse_codec_spec(spec)


def test_encodec_10_s_gives_750_frames_of_4_codebooks():
    codec = EncodecCodec(tiny_encodec(), 3.0, "encodec:tiny@3kbps")
    assert (codec.sample_rate_hz, codec.frame_rate_hz) == (24_000, 75.0)
    assert (codec.num_codebooks, codec.codebook_size) == (4, 1024)
    wav = 0.1 * torch.randn(2, 240_000)
    codes = codec.encode(wav)
    assert codes.shape == (2, 4, 750) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < 1024
    assert len(codes[:, 0].unique()) > 50  # the codes follow the audio, not a constant
    assert codec.decode(codes).shape == (2, 240_000)


def test_bandwidth_sets_the_number_of_codebooks():
    assert EncodecCodec(tiny_encodec(), 1.5, "s").num_codebooks == 2
    assert EncodecCodec(tiny_encodec(), 6.0, "s").num_codebooks == 8
    codes = EncodecCodec(tiny_encodec(), 6.0, "s").encode(0.1 * torch.randn(1, 24_000))
    assert codes.shape == (1, 8, 75)


def test_codec_from_spec_of_a_local_directory(encodec_dir: Path):
    codec = codec_from_spec(f"encodec:{encodec_dir}@3kbps")
    assert codec.spec == f"encodec:{encodec_dir}@3kbps"
    assert codec.encode(0.1 * torch.randn(1, 48_000)).shape == (1, 4, 150)


def test_missing_encodec_directory_is_a_user_error(tmp_path: Path):
    with pytest.raises(BandmateError, match="cannot load EnCodec"):
        codec_from_spec(f"encodec:{tmp_path / 'absent'}@3kbps")


def test_bandmate_specs_delegate_to_the_project_codec(monkeypatch: pytest.MonkeyPatch):
    seen = []
    fake = types.ModuleType("bandmate.codec")
    fake.codec_from_checkpoint = lambda source: seen.append(source) or "codec"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bandmate.codec", fake)
    assert codec_from_spec("bandmate:/ckpt/codec") == "codec"
    assert seen == ["/ckpt/codec"]


def test_bandmate_spec_without_the_codec_package_is_a_user_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "bandmate.codec", None)
    with pytest.raises(BandmateError, match=r"bandmate\.codec\) is not in this install"):
        codec_from_spec("bandmate:default")
