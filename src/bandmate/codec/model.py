"""The codec network: a SEANet-style convolutional encoder and decoder around a
residual vector quantizer (EnCodec's shape without its LSTM and discriminators).

Read top to bottom in build order: padded convolutions -> residual unit -> encoder and
decoder blocks -> config -> the model. No training code lives here (see train.py).

Letters: B batch, C channels, S samples, D latent dim, F frames, K codebooks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bandmate.codec.quantizer import ResidualVQ
from bandmate.codec.vocos import STFTDecoder, STFTEncoder, stft_receptive_frames

ARCHITECTURES = ("seanet", "stft")
STFT_PHASES = ("absolute", "integrated")


class PaddedConv1d(nn.Conv1d):
    """Conv1d whose output has exactly ceil(S / stride) frames for S a multiple of stride:
    zero padding of (kernel - stride) split evenly on both sides (non-causal)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = (self.kernel_size[0] - 1) * self.dilation[0] + 1 - self.stride[0]
        x = F.pad(x, (total - total // 2, total // 2))
        return super().forward(x)


class TrimmedConvTranspose1d(nn.ConvTranspose1d):
    """ConvTranspose1d that returns exactly F * stride samples for F input frames."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out = super().forward(x)
        extra = self.kernel_size[0] - self.stride[0]
        return out[..., extra - extra // 2 : out.shape[-1] - extra // 2]


class ResidualUnit(nn.Module):
    """x + conv1x1(ELU(dilated conv(ELU(x)))), bottlenecked to half the channels."""

    def __init__(self, channels: int, dilation: int, kernel: int = 3) -> None:
        super().__init__()
        hidden = max(channels // 2, 1)
        self.block = nn.Sequential(
            nn.ELU(),
            PaddedConv1d(channels, hidden, kernel, dilation=dilation),
            nn.ELU(),
            nn.Conv1d(hidden, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def encoder_block(channels: int, stride: int, dilations: tuple[int, ...]) -> nn.Sequential:
    """Residual units at `channels`, then a strided conv to 2 * channels."""
    units = [ResidualUnit(channels, d) for d in dilations]
    down = PaddedConv1d(channels, 2 * channels, 2 * stride, stride=stride)
    return nn.Sequential(*units, nn.ELU(), down)


def decoder_block(channels: int, stride: int, dilations: tuple[int, ...]) -> nn.Sequential:
    """A transposed conv from `channels` to channels / 2, then residual units."""
    up = TrimmedConvTranspose1d(channels, channels // 2, 2 * stride, stride=stride)
    units = [ResidualUnit(channels // 2, d) for d in dilations]
    return nn.Sequential(nn.ELU(), up, *units)


@dataclass(frozen=True)
class CodecConfig:
    """Shape of a codec; saved as `config.json` in every checkpoint.

    `architecture` picks the network: "seanet" (strided convs, the first checkpoints;
    config files without the field are seanet) or "stft" (Vocos-style, see vocos.py:
    ConvNeXt blocks at the frame rate around an STFT, hop = product of `strides`).
    """

    architecture: str = "seanet"  # "seanet" or "stft"
    sample_rate_hz: int = 24_000  # audio rate the codec works at
    channels: int = 16  # channels after the first conv; doubled at each downsampling
    strides: tuple[int, ...] = (2, 4, 5, 8)  # encoder downsampling; product = hop length
    dilations: tuple[int, ...] = (1, 3)  # residual units per block and their dilations
    latent_dim: int = 128  # D, the encoder output / decoder input dimension
    code_dim: int = 8  # d, the projected space where codes are looked up
    num_codebooks: int = 4  # K residual VQ stages
    codebook_size: int = 1024  # N entries per codebook
    ema_decay: float = 0.99  # codebook EMA decay
    dead_code_fraction: float = 0.1  # restart codes used less than this share of an even spread
    convnext_dim: int = 256  # stft only: width of the ConvNeXt blocks
    convnext_layers: int = 6  # stft only: ConvNeXt blocks in the encoder and in the decoder
    mlp_mult: int = 3  # stft only: hidden width of a block's MLP, in multiples of its width
    stft_phase: str = "absolute"  # stft only: "absolute" or "integrated" (see vocos.py)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture {self.architecture!r} unknown; use one of {', '.join(ARCHITECTURES)}"
            )
        if self.stft_phase not in STFT_PHASES:
            raise ValueError(
                f"stft_phase {self.stft_phase!r} unknown; use one of {', '.join(STFT_PHASES)}"
            )

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
        if self.architecture == "stft":
            return stft_receptive_frames(self)
        return 15  # SEANet: chunking kept 16 frames of margin from the start


class Encoder(nn.Module):
    """wav [B, 1, S] -> latents [B, D, S / hop], standardized per channel.

    The closing BatchNorm (no affine part) removes each channel's constant offset:
    early in training the frame-to-frame variation of the latents is a few percent of
    that offset, and codebooks looked up on such latents collapse onto one code.
    """

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        c = config.channels
        layers: list[nn.Module] = [PaddedConv1d(1, c, 7)]
        for stride in config.strides:
            layers.append(encoder_block(c, stride, config.dilations))
            c *= 2
        layers += [nn.ELU(), PaddedConv1d(c, config.latent_dim, 7)]
        layers.append(nn.BatchNorm1d(config.latent_dim, affine=False))
        self.net = nn.Sequential(*layers)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.net(wav)


class Decoder(nn.Module):
    """latents [B, D, F] -> wav [B, 1, F * hop]."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        c = config.channels * 2 ** len(config.strides)
        layers: list[nn.Module] = [PaddedConv1d(config.latent_dim, c, 7)]
        for stride in reversed(config.strides):
            layers.append(decoder_block(c, stride, config.dilations))
            c //= 2
        layers += [nn.ELU(), PaddedConv1d(c, 1, 7)]
        self.net = nn.Sequential(*layers)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.net(latents)


class CodecModel(nn.Module):
    """Encoder -> residual VQ -> decoder. Inputs are padded to a multiple of the hop."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        self.config = config
        stft = config.architecture == "stft"
        self.encoder: nn.Module = STFTEncoder(config) if stft else Encoder(config)
        self.quantizer = ResidualVQ(
            config.latent_dim,
            config.num_codebooks,
            config.codebook_size,
            config.code_dim,
            config.ema_decay,
            config.dead_code_fraction,
        )
        self.decoder: nn.Module = STFTDecoder(config) if stft else Decoder(config)

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
