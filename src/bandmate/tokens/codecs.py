"""Acoustic codecs behind one interface, named by one spec string.

Specs (stored in every token set and checkpoint, so decoding uses the training codec):

    encodec:facebook/encodec_24khz@3kbps     EnCodec from a hub id (or the local HF cache)
    encodec:/models/encodec_24khz@6kbps      EnCodec from a local directory (offline)
    bandmate:default                         the project's own codec (`bandmate.codec`)

EnCodec 24 kHz at 3 kbps = 4 codebooks x 1024 entries at 75 Hz (DESIGN.md §1).
Letters: B batch, S samples, K codebooks, F frames.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

import torch

from bandmate.errors import BandmateError
from bandmate.tokens.interfaces import AcousticCodec

log = logging.getLogger(__name__)

ENCODEC_BANDWIDTHS_KBPS = (1.5, 3.0, 6.0, 12.0, 24.0)
DEFAULT_ENCODEC_KBPS = 3.0


@dataclass(frozen=True)
class CodecSpec:
    """A parsed codec spec: `kind:source[@<kbps>kbps]`."""

    kind: str  # "encodec" or "bandmate"
    source: str  # hub id, local directory, or the project codec's name or path
    bandwidth_kbps: float | None = None  # EnCodec only

    def __str__(self) -> str:
        if self.bandwidth_kbps is None:
            return f"{self.kind}:{self.source}"
        return f"{self.kind}:{self.source}@{self.bandwidth_kbps:g}kbps"


def parse_codec_spec(spec: str) -> CodecSpec:
    """Parse `encodec:SOURCE[@Nkbps]` or `bandmate:NAME_OR_PATH`; `BandmateError` otherwise."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise BandmateError(
            f"codec spec {spec!r}: expected 'encodec:HUB_ID_OR_DIR@3kbps' "
            "or 'bandmate:NAME_OR_PATH'"
        )
    if kind == "bandmate":
        return CodecSpec("bandmate", rest)
    if kind != "encodec":
        raise BandmateError(f"codec spec {spec!r}: unknown codec kind {kind!r} (encodec, bandmate)")
    source, at, rate = rest.rpartition("@")
    if not at:
        return CodecSpec("encodec", rest, DEFAULT_ENCODEC_KBPS)
    try:
        kbps = float(rate.lower().removesuffix("kbps"))
    except ValueError:
        raise BandmateError(f"codec spec {spec!r}: bad bandwidth {rate!r}, e.g. @3kbps") from None
    if kbps not in ENCODEC_BANDWIDTHS_KBPS:
        known = ", ".join(f"{b:g}" for b in ENCODEC_BANDWIDTHS_KBPS)
        raise BandmateError(f"codec spec {spec!r}: bandwidth {kbps:g} kbps not one of {known}")
    return CodecSpec("encodec", source, kbps)


class EncodecCodec:
    """transformers' `EncodecModel` as an `AcousticCodec` (mono, no chunking)."""

    def __init__(self, model: Any, bandwidth_kbps: float, spec: str) -> None:
        config = model.config
        if config.audio_channels != 1 or config.chunk_length_s is not None or config.normalize:
            # The 48 kHz model chunks and rescales audio: its per-chunk scales are not codes,
            # so token sets could not be decoded from codes alone.
            raise BandmateError(
                f"codec {spec}: only mono, unchunked EnCodec models (encodec_24khz) are supported"
            )
        if bandwidth_kbps not in tuple(config.target_bandwidths):
            raise BandmateError(
                f"codec {spec}: bandwidth {bandwidth_kbps:g} kbps not in the model's "
                f"{list(config.target_bandwidths)}"
            )
        self.model = model.eval()
        self.bandwidth_kbps = bandwidth_kbps
        self.spec = spec
        self.sample_rate_hz = int(config.sampling_rate)
        self.frame_rate_hz = float(config.sampling_rate / config.hop_length)
        self.num_codebooks = int(model.quantizer.get_num_quantizers_for_bandwidth(bandwidth_kbps))
        self.codebook_size = int(config.codebook_size)

    @torch.inference_mode()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] mono at `sample_rate_hz` -> codes [B, K, F] int64, F = ceil(S / hop)."""
        out = self.model.encode(wav[:, None, :].float(), bandwidth=self.bandwidth_kbps)
        return out.audio_codes[0].long()  # [1, B, K, F] -> [B, K, F]

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, F] -> wav [B, S] float at `sample_rate_hz`."""
        out = self.model.decode(codes[None].long(), [None])
        return out.audio_values[:, 0, :]  # [B, 1, S] -> [B, S]


def load_encodec(source: str, bandwidth_kbps: float, spec: str) -> EncodecCodec:
    """EnCodec from a hub id or a local directory; a clear error when it cannot be had."""
    from transformers import EncodecModel

    try:
        model = EncodecModel.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise BandmateError(
            f"codec {spec}: cannot load EnCodec from {source!r} ({_first_line(error)}); "
            "give a local directory holding config.json and the weights"
        ) from None
    return EncodecCodec(model, bandwidth_kbps, spec)


def codec_from_spec(spec: str) -> AcousticCodec:
    """The codec a spec string names (see the module docstring)."""
    parsed = parse_codec_spec(spec)
    if parsed.kind == "bandmate":
        return _load_bandmate_codec(parsed.source, spec)
    assert parsed.bandwidth_kbps is not None
    return load_encodec(parsed.source, parsed.bandwidth_kbps, str(parsed))


def _load_bandmate_codec(source: str, spec: str) -> AcousticCodec:
    """Delegate to `bandmate.codec.codec_from_checkpoint` (imported lazily: it is optional
    here)."""
    try:
        module = importlib.import_module("bandmate.codec")
    except ModuleNotFoundError as error:
        if error.name not in ("bandmate.codec", "bandmate"):
            raise
        raise BandmateError(
            f"codec {spec}: the project's codec (bandmate.codec) is not in this install; "
            "use an encodec:... spec"
        ) from None
    codec: AcousticCodec = module.codec_from_checkpoint(source)
    return codec


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
