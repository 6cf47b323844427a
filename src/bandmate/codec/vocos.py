"""The "stft" codec architecture: a Vocos-style encoder and decoder that work at the
frame rate and leave the waveform to an STFT and its inverse.

Transposed-conv upsampling (the SEANet decoder) can learn a waveform that repeats at
the frame rate, which puts tonal content on harmonics of 75 Hz. Here the decoder
predicts, per frame, a log magnitude and a phase for every FFT bin; an inverse STFT
with overlap-add turns them into audio, so any frequency is reachable and nothing runs
at the sample rate except two FFTs (cheap on a CPU). Design after Vocos (Siuzdak,
arXiv 2306.00814), written here from the paper's description.

Read top to bottom: STFT helpers -> ConvNeXt block -> encoder -> decoder.

Letters: B batch, S samples, F frames, N FFT size, H hop, C width, D latent dim.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from bandmate.codec.model import CodecConfig

TAU = 2 * math.pi
LOG_MAG_MAX = 8.0  # clamp of the predicted log magnitude (e^8 ~ 3000, far above any real bin)


def fft_size(hop: int) -> int:
    """The FFT size used with hop `hop`: four hops, so frames overlap 75%."""
    return 4 * hop


class _HannFrames(nn.Module):
    """Hop H, FFT size N = fft_size(H) and the Hann window both transforms share."""

    window: torch.Tensor

    def __init__(self, hop: int) -> None:
        super().__init__()
        self.hop = hop
        self.n_fft = fft_size(hop)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)


class FrameSTFT(_HannFrames):
    """wav [B, 1, S] (S a multiple of H) -> complex spectrum [B, N/2+1, S/H].

    Zero padding of (N - H)/2 on each side and center=False give exactly one frame per
    hop, frame f centred on samples [f*H, (f+1)*H): the same alignment as the inverse.
    """

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        pad = (self.n_fft - self.hop) // 2
        x = F.pad(wav.squeeze(1), (pad, pad))
        return torch.stft(
            x,
            self.n_fft,
            self.hop,
            window=self.window,
            center=False,
            return_complex=True,
        )


class FrameISTFT(_HannFrames):
    """complex spectrum [B, N/2+1, F] -> wav [B, F * H]: irfft, window, overlap-add
    (torch's fold), divide by the summed squared window, trim (N - H)/2 each side."""

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        frames = spec.shape[-1]
        n, hop = self.n_fft, self.hop
        chunks = torch.fft.irfft(spec, n=n, dim=1) * self.window[None, :, None]  # [B, N, F]
        length = (frames - 1) * hop + n
        wav = F.fold(chunks, (1, length), (1, n), stride=(1, hop))[:, 0, 0]  # [B, length]
        squared = self.window.square()[None, :, None].expand(1, n, frames)
        envelope = F.fold(squared, (1, length), (1, n), stride=(1, hop))[0, 0, 0]
        pad = (n - hop) // 2
        # Inside the trimmed span at least 3 windows overlap, so the envelope is > 0.
        return wav[:, pad : length - pad] / envelope[pad : length - pad].clamp(min=1e-8)


class ConvNeXtBlock(nn.Module):
    """x + scale * MLP(LayerNorm(depthwise conv k=7 (x))) on [B, C, F]."""

    def __init__(self, dim: int, mult: int, kernel: int = 7) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.up = nn.Linear(dim, mult * dim)
        self.down = nn.Linear(mult * dim, dim)
        # Layer scale: each block starts near the identity, so a deep stack trains stably.
        self.scale = nn.Parameter(torch.full((dim,), 1.0 / 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.depthwise(x).transpose(1, 2)  # [B, F, C]
        y = self.down(F.gelu(self.up(self.norm(y))))
        return x + (self.scale * y).transpose(1, 2)


class FrameStack(nn.Module):
    """Conv1d k=7 from `inputs` to C channels, LayerNorm, `layers` ConvNeXt blocks,
    LayerNorm: [B, inputs, F] -> [B, F, C] (channels last, ready for a Linear)."""

    def __init__(self, inputs: int, dim: int, layers: int, mult: int) -> None:
        super().__init__()
        self.embed = nn.Conv1d(inputs, dim, 7, padding=3)
        self.norm_in = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, mult) for _ in range(layers))
        self.norm_out = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm_in(self.embed(x).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.norm_out(x.transpose(1, 2))


class STFTEncoder(nn.Module):
    """wav [B, 1, S] -> latents [B, D, S / H], standardized per channel (as the SEANet
    encoder: BatchNorm without affine, so codebooks see zero-mean unit-scale latents)."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        hop = config.hop_length
        self.stft = FrameSTFT(hop)
        bins = fft_size(hop) // 2 + 1
        self.stack = FrameStack(bins, config.convnext_dim, config.convnext_layers, config.mlp_mult)
        self.project = nn.Linear(config.convnext_dim, config.latent_dim)
        self.standardize = nn.BatchNorm1d(config.latent_dim, affine=False)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        features = torch.log(self.stft(wav).abs() + 1e-5)  # [B, N/2+1, F]
        return self.standardize(self.project(self.stack(features)).transpose(1, 2))


class STFTDecoder(nn.Module):
    """latents [B, D, F] -> wav [B, 1, F * H] through a predicted spectrum.

    Phase, `config.stft_phase`:
    - "absolute": the network predicts each frame's phase angle. For a steady tone the
      latents repeat frame after frame, so a convolutional decoder predicts the same
      frame again and again: a waveform periodic at the frame rate (75 Hz harmonics).
    - "integrated" (phase vocoder): the network predicts each frame's phase *advance*
      per bin and the phase is its running sum, so identical frames still rotate each
      partial's phase by 2 pi f H / sr and any pitch is reachable. The advance starts
      at the bin centre's own (pi k / 2 for N = 4 H); the network learns the residual.
    """

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        hop = config.hop_length
        self.bins = fft_size(hop) // 2 + 1
        self.integrated = config.stft_phase == "integrated"
        self.stack = FrameStack(
            config.latent_dim, config.convnext_dim, config.convnext_layers, config.mlp_mult
        )
        self.head = nn.Linear(config.convnext_dim, 2 * self.bins)
        self.istft = FrameISTFT(hop)
        centre = torch.remainder(torch.arange(self.bins) * (2 * math.pi * hop / fft_size(hop)), TAU)
        self.register_buffer("centre_advance", centre[:, None], persistent=False)

    centre_advance: torch.Tensor

    def predict(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """latents [B, D, F] -> (log magnitude, phase or phase advance), each [B, N/2+1, F]."""
        out = self.head(self.stack(latents)).transpose(1, 2)
        return out[:, : self.bins], out[:, self.bins :]

    def phase(
        self,
        angles: torch.Tensor,
        anchor_frame: int = 0,
        anchor_phase: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The phase [B, N/2+1, F] from `predict`'s angles. Integrated phase is the running
        sum of the advances; `anchor_phase` [B, N/2+1] (a previous chunk's phase at frame
        `anchor_frame`) continues it across chunk borders."""
        if not self.integrated:
            return angles
        # float64 running sum: float32 would lose ~1e-3 rad after a few thousand frames.
        phase = (angles + self.centre_advance).double().cumsum(-1)
        if anchor_phase is not None:
            offset = anchor_phase.double() - phase[..., anchor_frame]
            phase = phase + offset[..., None]
        return torch.remainder(phase, TAU).float()

    def synthesize(self, log_mag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """[B, N/2+1, F] log magnitude and phase -> wav [B, 1, F * H]."""
        magnitude = torch.exp(log_mag.clamp(max=LOG_MAG_MAX))
        spec = torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))
        return self.istft(spec).unsqueeze(1)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        log_mag, angles = self.predict(latents)
        return self.synthesize(log_mag, self.phase(angles))


def stft_receptive_frames(config: CodecConfig) -> int:
    """Frames either side that one output frame of the encoder or decoder depends on:
    3 per k=7 conv (embedding + blocks) plus 2 for the STFT window overlap."""
    return 3 * (config.convnext_layers + 1) + 2
