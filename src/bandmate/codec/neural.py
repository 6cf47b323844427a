"""`NeuralCodec`: the project's codec behind the AcousticCodec interface, and
`codec_from_checkpoint`, which finds a checkpoint by name (`default`) or by directory.

Long audio is processed in chunks with a margin of context frames on each side, so
memory stays bounded and chunk borders are inaudible (the margin covers the networks'
receptive fields).

Letters: B batch, S samples, F frames, K codebooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import torch

from bandmate.codec.checkpoint import load_model
from bandmate.codec.model import CodecModel
from bandmate.codec.vocos import STFTDecoder
from bandmate.errors import BandmateError

log = logging.getLogger(__name__)

DEFAULT_NAME = "default"
SPEC_PREFIX = "bandmate:"


def shipped_checkpoint(name: str = DEFAULT_NAME) -> Path:
    """Directory of a checkpoint shipped as package data (assets/codec/NAME)."""
    root = resources.files("bandmate") / "assets" / "codec" / name
    return Path(str(root))


class NeuralCodec:
    """A trained CodecModel as an AcousticCodec: encode [B, S] -> [B, K, F], decode back."""

    def __init__(self, model: CodecModel, spec: str, chunk_frames: int = 1500) -> None:
        self.model = model.eval()
        self.spec = spec
        config = model.config
        self.sample_rate_hz = config.sample_rate_hz
        self.frame_rate_hz = config.frame_rate_hz
        self.num_codebooks = config.num_codebooks
        self.codebook_size = config.codebook_size
        self.hop_length = config.hop_length
        self.chunk_frames = chunk_frames  # 20 s at 75 Hz
        # Margin beyond the receptive field of encoder and decoder, and never under the
        # 16 frames chunking has kept since the first codec.
        self.context_frames = max(16, config.receptive_frames + 1)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> NeuralCodec:
        self.model.to(device)
        return self

    @torch.inference_mode()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] mono float at `sample_rate_hz` -> codes [B, K, ceil(S / hop)] int64."""
        if wav.dim() != 2:
            raise ValueError(f"encode expects wav [B, S], got shape {tuple(wav.shape)}")
        hop = self.hop_length
        total_frames = -(-wav.shape[-1] // hop)
        wav = torch.nn.functional.pad(wav.float(), (0, total_frames * hop - wav.shape[-1]))
        codes = _chunked(
            total_frames,
            self.chunk_frames,
            self.context_frames,
            lambda a, b: self.model.encode(wav[:, a * hop : b * hop].to(self.device)),
            frames_per_unit=1,
        )
        return codes.to(wav.device)

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, F] int64 -> wav [B, F * hop] float32."""
        if codes.dim() != 3 or codes.shape[1] != self.num_codebooks:
            raise ValueError(
                f"decode expects codes [B, {self.num_codebooks}, F], got {tuple(codes.shape)}"
            )
        if int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size:
            raise ValueError(f"codes must lie in [0, {self.codebook_size})")
        decoder = self.model.decoder
        if isinstance(decoder, STFTDecoder) and decoder.integrated:
            return self._decode_carrying_phase(codes, decoder)
        wav = _chunked(
            codes.shape[-1],
            self.chunk_frames,
            self.context_frames,
            lambda a, b: self.model.decode(codes[..., a:b].long().to(self.device)),
            frames_per_unit=self.hop_length,
        )
        return wav.to(codes.device)

    def _decode_carrying_phase(self, codes: torch.Tensor, decoder: STFTDecoder) -> torch.Tensor:
        """Chunked decoding of an integrated-phase decoder: each chunk's running phase
        sum starts from the previous chunk's phase at the border, so the result equals
        one pass (each chunk alone would restart every partial's phase: a click)."""
        total, chunk, context, hop = (
            codes.shape[-1],
            self.chunk_frames,
            self.context_frames,
            self.hop_length,
        )
        pieces, anchor = [], None
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            lo, hi = max(start - context, 0), min(stop + context, total)
            latents = self.model.quantizer.decode(codes[..., lo:hi].long().to(self.device))
            log_mag, angles = decoder.predict(latents)
            phase = decoder.phase(angles, start - lo, anchor)
            wav = decoder.synthesize(log_mag, phase).squeeze(1)
            pieces.append(wav[..., (start - lo) * hop : (stop - lo) * hop])
            if stop < total:  # frame `stop` lies in this chunk's right context
                anchor = phase[..., stop - lo]
        return torch.cat(pieces, dim=-1).to(codes.device)


def _chunked(
    total: int,
    chunk: int,
    context: int,
    run: Callable[[int, int], torch.Tensor],
    frames_per_unit: int,
) -> torch.Tensor:
    """Apply `run(start_frame, stop_frame)` over [0, total) in chunks with `context` frames
    of margin each side, keep each chunk's centre and concatenate on the last axis.
    `frames_per_unit` is how many output steps one frame yields (hop for decoding)."""
    if total <= chunk:
        return run(0, total)
    pieces = []
    for start in range(0, total, chunk):
        stop = min(start + chunk, total)
        lo, hi = max(start - context, 0), min(stop + context, total)
        out = run(lo, hi)
        keep_from = (start - lo) * frames_per_unit
        pieces.append(out[..., keep_from : keep_from + (stop - start) * frames_per_unit])
    return torch.cat(pieces, dim=-1)


def checkpoint_path(name_or_path: str) -> Path:
    """Directory of a codec named `default`, `bandmate:default`, `bandmate:DIR` or `DIR`."""
    name = name_or_path.removeprefix(SPEC_PREFIX)
    if not name:
        raise BandmateError(f"{name_or_path!r}: empty codec name; use 'default' or a directory")
    if name != DEFAULT_NAME:
        return Path(name)
    path = shipped_checkpoint(name)
    if not path.is_dir():
        raise BandmateError(f"{path}: the shipped default codec is missing from the package")
    return path


def codec_from_checkpoint(name_or_path: str) -> NeuralCodec:
    """The project's codec of a checkpoint, named or by its directory.

    Args:
        name_or_path: `default` (the checkpoint shipped in the package), optionally as
            `bandmate:default`, or a checkpoint directory.
    Returns:
        a NeuralCodec on CPU whose `spec` is `bandmate:<name_or_path>`.
    Raises:
        BandmateError: one line naming the path when the checkpoint is missing or invalid.
    """
    name = name_or_path.removeprefix(SPEC_PREFIX)
    path = checkpoint_path(name_or_path)
    model = load_model(path)
    log.debug("loaded codec %s from %s", name, path)
    return NeuralCodec(model, f"{SPEC_PREFIX}{name}")
