"""The codec network: the Vocos-style "stft" encoder and decoder (vocos.py) around a
residual vector quantizer (quantizer.py): config, then the model. No training code lives
here (see train.py).

The first checkpoints used a SEANet-style convolutional network (`architecture: seanet`);
the stft network replaced it before any shipped codec, and it was removed: such a
checkpoint fails to load with one line saying so (checkpoint.py).

Letters: B batch, S samples, D latent dim, F frames, K codebooks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from torch import nn

from bandmate.codec.quantizer import ResidualVQ
from bandmate.codec.vocos import STFTDecoder, STFTEncoder, stft_receptive_frames
from bandmate.config import Count, Range, Share, check_fields


@dataclass(frozen=True)
class CodecConfig:
    """Shape of a codec; saved as `config.json` in every checkpoint."""

    # The network: Vocos-style (vocos.py), ConvNeXt blocks at the frame rate around an
    # STFT of hop = product of `strides`; the only one since SEANet's removal.
    architecture: Literal["stft"] = "stft"
    sample_rate_hz: Count = 24_000  # audio rate the codec works at
    strides: tuple[Count, ...] = (2, 4, 5, 8)  # product = hop length (320: 75 Hz at 24 kHz)
    latent_dim: Count = 128  # D, the encoder output / decoder input dimension
    code_dim: Count = 8  # d, the projected space where codes are looked up
    num_codebooks: Count = 4  # K residual VQ stages
    codebook_size: Count = 1024  # N entries per codebook
    ema_decay: Annotated[float, Range(0, 1, high_open=True)] = 0.99  # codebook EMA decay
    dead_code_fraction: Share = 0.1  # restart codes used less than this share of an even spread
    convnext_dim: Count = 256  # width of the ConvNeXt blocks
    convnext_layers: Count = 6  # ConvNeXt blocks in the encoder and in the decoder
    mlp_mult: Count = 3  # hidden width of a block's MLP, in multiples of its width
    stft_phase: Literal["absolute", "integrated"] = "absolute"  # see vocos.py

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def hop_length(self) -> int:
        return math.prod(self.strides)

    @property
    def frame_rate_hz(self) -> float:
        return self.sample_rate_hz / self.hop_length

    @property
    def receptive_frames(self) -> int:
        """Frames either side of a frame that its encoding or decoding depends on
        (an upper bound; chunked processing keeps at least this much context)."""
        return stft_receptive_frames(self)


class CodecModel(nn.Module):
    """Encoder -> residual VQ -> decoder. Inputs are padded to a multiple of the hop."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = STFTEncoder(config)
        self.quantizer = ResidualVQ(
            config.latent_dim,
            config.num_codebooks,
            config.codebook_size,
            config.code_dim,
            config.ema_decay,
            config.dead_code_fraction,
        )
        self.decoder = STFTDecoder(config)

    def pad(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, S] -> [B, 1, S'] with S' the next multiple of the hop length."""
        hop = self.config.hop_length
        missing = -wav.shape[-1] % hop
        return F.pad(wav, (0, missing)).unsqueeze(1)

    def forward(
        self, wav: torch.Tensor, quantize: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, dict[str, float]]:
        """Training pass.

        Args:
            wav: [B, S] float, S a multiple of the hop length.
            quantize: False skips the quantizer (a plain autoencoder, used to warm up
                the encoder before its latents initialize the codebooks).
        Returns:
            (reconstruction [B, S], codes [B, K, F] or None, commitment loss, stats).
        """
        latents = self.encoder(self.pad(wav))  # [B, D, F]
        if not quantize:
            recon = self.decoder(latents).squeeze(1)[..., : wav.shape[-1]]
            return recon, None, latents.new_zeros(()), {}
        quantized, codes, commitment, stats = self.quantizer(latents)
        recon = self.decoder(quantized).squeeze(1)[..., : wav.shape[-1]]
        return recon, codes, commitment, stats

    @torch.no_grad()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] -> codes [B, K, ceil(S / hop)] int64."""
        return self.quantizer.encode(self.encoder(self.pad(wav)))

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, F] -> wav [B, F * hop]."""
        return self.decoder(self.quantizer.decode(codes)).squeeze(1)
