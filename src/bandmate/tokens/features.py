"""Frame features at 50 Hz that semantic tokenizers cluster.

Two extractors share one shape contract, wav [B, S] at 16 kHz -> [B, F, D] with
F = S // 320 (10 s -> 500 frames; frame j describes samples [320 j, 320 j + 320)):

- `SpectralFeatures` (offline, no download): MFCCs (20 by default) + 12 chroma bins per
  frame.
- `W2vBertFeatures`: w2v-BERT 2.0 hidden states of one layer (7 in the thesis), 1024-dim.

Letters: B batch, S samples, F frames, D feature dimension.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import numpy as np
import torch

from bandmate.errors import BandmateError
from bandmate.tokens.config import CHROMA_KINDS

SAMPLE_RATE_HZ = 16_000
HOP = 320  # 16 kHz / 320 = 50 Hz
W2V_BERT_DEFAULT = "facebook/w2v-bert-2.0"


def num_frames(num_samples: int) -> int:
    """Frames a clip of `num_samples` at 16 kHz yields (50 Hz, no partial frame)."""
    return num_samples // HOP


class FrameFeatures(Protocol):
    """wav [B, S] at 16 kHz -> features [B, F, D] at 50 Hz."""

    dim: int

    def __call__(self, wav: torch.Tensor) -> torch.Tensor: ...

    def describe(self) -> dict[str, Any]:
        """JSON-safe settings that `build_features` turns back into this extractor."""
        ...


class SpectralFeatures:
    """MFCC (timbre, level) + chroma (pitch class) per 20 ms frame; needs no download.

    A 1024-point STFT (64 ms window, zero-padded so frame j is centred on its 20 ms hop)
    gives a 64-band log-mel spectrum and its first `n_mfcc` DCT coefficients. A 12-bin
    chroma, normalised per frame so that pitch content counts apart from loudness, comes
    from a `chroma_fft`-point STFT centred the same way: at 1024 points its bins are
    15.6 Hz wide, too wide for bass notes (A1 and B-flat1 are 3.3 Hz apart), so bass
    models use 4096. Fewer MFCCs give pitch more of k-means' distance, which carries a
    bass line's notes to the tokens across instruments (model card).

    `chroma="salience"` folds a harmonic salience instead of the spectrum: each pitch
    from C1 to B5 collects its first 8 harmonics (weights 0.8^(h-1)), so a note counts
    under its fundamental's pitch class, not its loudest overtone's. A bassoon's low
    notes, whose third harmonic outweighs the fundamental, otherwise read as their fifth.
    """

    n_fft = 1024
    n_mels = 64
    n_chroma = 12

    def __init__(self, n_mfcc: int = 20, chroma_fft: int = 1024, chroma: str = "stft") -> None:
        if not 1 <= n_mfcc <= self.n_mels:
            raise BandmateError(f"spectral features: n_mfcc {n_mfcc} not in [1, {self.n_mels}]")
        if chroma_fft < HOP or chroma_fft & (chroma_fft - 1):
            raise BandmateError(
                f"spectral features: chroma_fft {chroma_fft} not a power of 2 >= {HOP}"
            )
        if chroma not in CHROMA_KINDS:
            raise BandmateError(
                f"spectral features: chroma {chroma!r} not one of {', '.join(CHROMA_KINDS)}"
            )
        self.n_mfcc, self.chroma_fft, self.chroma_kind = n_mfcc, chroma_fft, chroma
        self.dim = n_mfcc + self.n_chroma
        mel, _, dct = _spectral_matrices(self.n_fft, self.n_mels, n_mfcc, self.n_chroma)
        if chroma == "salience":
            folded = _salience_chroma_matrix(chroma_fft)
        else:
            _, folded, _ = _spectral_matrices(chroma_fft, self.n_mels, n_mfcc, self.n_chroma)
        self.mel = torch.from_numpy(mel)  # [n_mels, n_fft/2+1]
        self.chroma = torch.from_numpy(folded)  # [12, chroma_fft/2+1]
        self.dct = torch.from_numpy(dct)  # [n_mfcc, n_mels]

    def __call__(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] at 16 kHz -> [B, F, n_mfcc + 12] float32, F = S // 320."""
        frames = num_frames(wav.shape[-1])
        power = _centred_stft(wav, self.n_fft, frames).abs().square()  # [B, n_fft/2+1, F]
        log_mel = torch.log(self.mel @ power + 1e-8)  # [B, n_mels, F]
        mfcc = self.dct @ log_mel  # [B, n_mfcc, F]
        if self.chroma_fft == self.n_fft:
            magnitude = power.sqrt()
        else:
            magnitude = _centred_stft(wav, self.chroma_fft, frames).abs()
        chroma = self.chroma @ magnitude
        chroma = chroma / (chroma.amax(dim=1, keepdim=True) + 1e-6)  # [B, 12, F]
        return torch.cat([mfcc, chroma], dim=1).transpose(1, 2).contiguous()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "spectral",
            "n_fft": self.n_fft,
            "n_mels": self.n_mels,
            "n_mfcc": self.n_mfcc,
            "chroma_fft": self.chroma_fft,
            "chroma": self.chroma_kind,
            "dim": self.dim,
        }


def _centred_stft(wav: torch.Tensor, n_fft: int, frames: int) -> torch.Tensor:
    """[B, S] -> complex [B, n_fft/2+1, frames]: Hann windows centred on each 20 ms hop
    (zero-padded at the ends, and for clips shorter than one window)."""
    side = (n_fft - HOP) // 2
    short = max(0, n_fft - (wav.shape[-1] + 2 * side))
    padded = torch.nn.functional.pad(wav.float(), (side, side + short))
    window = _hann(n_fft)
    return torch.stft(padded, n_fft, HOP, window=window, center=False, return_complex=True)[
        ..., :frames
    ]


@functools.cache
def _hann(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft)


@functools.cache
def _spectral_matrices(
    n_fft: int, n_mels: int, n_mfcc: int, n_chroma: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mel = mel_filters(SAMPLE_RATE_HZ, n_fft, n_mels, fmin_hz=30.0)
    chroma = chroma_filters(SAMPLE_RATE_HZ, n_fft, n_chroma)
    dct = dct_matrix(n_mels)[:n_mfcc]
    return mel.astype(np.float32), chroma.astype(np.float32), dct.astype(np.float32)


# The filter banks below are librosa's (filters.mel with the Slaney scale and norm,
# filters.chroma with its defaults) and scipy's orthonormal DCT-II, equal to them within
# float rounding (tests/tokens/test_features.py); written out because importing
# librosa.filters costs about 3 s of every `bandmate generate` (it loads numba), for
# matrices that take milliseconds to compute.


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (200/3 Hz a mel), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    above = hz >= 1000.0
    return np.where(above, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / log_step, mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * 200.0 / 3)


def mel_filters(sample_rate_hz: int, n_fft: int, n_mels: int, fmin_hz: float = 0.0) -> np.ndarray:
    """[n_mels, n_fft/2+1] triangular filters evenly spaced in Slaney mels from `fmin_hz` to
    Nyquist, each of unit area (librosa.filters.mel's default norm)."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(sample_rate_hz / 2.0), n_mels + 2)
    )
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def chroma_filters(sample_rate_hz: int, n_fft: int, n_chroma: int = 12) -> np.ndarray:
    """[n_chroma, n_fft/2+1] STFT bins -> pitch classes (C first): a Gaussian bump per
    class around each bin's fractional pitch class, columns of unit L2 norm, weighted by a
    Gaussian over octaves centred on octave 5 (A440 tuning; librosa.filters.chroma)."""
    hz = np.linspace(0, sample_rate_hz, n_fft, endpoint=False)[1:]
    bins = n_chroma * np.log2(hz / (440.0 / 16))  # pitch in chroma bins above A0 / 2
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))  # the DC bin, made up
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1.0]))
    half = np.round(n_chroma / 2)
    distance = np.subtract.outer(bins, np.arange(n_chroma, dtype=np.float64)).T
    distance = np.remainder(distance + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * distance / widths[None, :]) ** 2)
    weights /= np.linalg.norm(weights, axis=0, keepdims=True)
    weights *= np.exp(-0.5 * ((bins / n_chroma - 5.0) / 2.0) ** 2)[None, :]
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)  # A-first -> C-first
    return np.ascontiguousarray(weights[:, : n_fft // 2 + 1])


def dct_matrix(n: int) -> np.ndarray:
    """[n, n] orthonormal DCT-II: row k is cos(pi k (2 j + 1) / 2n), scaled to unit norm."""
    k, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    matrix = np.cos(np.pi * k * (2 * j + 1) / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


# Harmonic salience (SpectralFeatures' chroma="salience"): pitches C1..B5, 8 harmonics.
SALIENCE_PITCHES = range(24, 84)
SALIENCE_HARMONICS = 8
SALIENCE_DECAY = 0.8


@functools.cache
def _salience_chroma_matrix(n_fft: int) -> np.ndarray:
    """[12, n_fft/2+1]: STFT magnitude -> salience folded to pitch classes (C = 0).

    Each harmonic spreads over the bins within half a semitone of it (a triangle in log
    frequency), so a slightly detuned or vibrato note still lands in its own class.
    """
    freqs = np.arange(n_fft // 2 + 1) * SAMPLE_RATE_HZ / n_fft
    log_freqs = 12 * np.log2(np.maximum(freqs, 1e-3) / 440.0) + 69  # fractional MIDI
    matrix = np.zeros((12, freqs.size), dtype=np.float64)
    for pitch in SALIENCE_PITCHES:
        fundamental_hz = 440.0 * 2 ** ((pitch - 69) / 12)
        for harmonic in range(1, SALIENCE_HARMONICS + 1):
            if harmonic * fundamental_hz > SAMPLE_RATE_HZ / 2:
                break
            centre = pitch + 12 * np.log2(harmonic)
            weight = np.clip(1 - np.abs(log_freqs - centre) / 0.5, 0, None)
            matrix[pitch % 12] += SALIENCE_DECAY ** (harmonic - 1) * weight
    return matrix.astype(np.float32)


class W2vBertFeatures:
    """Hidden states of w2v-BERT 2.0 layer `layer` (transformers' Wav2Vec2Bert classes).

    The model only needs its first `layer` layers, so it is loaded truncated. The feature
    extractor's 80-bin fbank (25 ms window, 10 ms hop, pairs of frames stacked) gives 50 Hz;
    the audio is padded by 120 samples each side so that frame j is centred on its 20 ms hop
    and a 10 s clip gives exactly 500 frames.
    """

    def __init__(self, model: Any, extractor: Any, layer: int, source: str) -> None:
        if model.config.num_hidden_layers < layer:
            raise BandmateError(
                f"w2v-BERT {source}: has {model.config.num_hidden_layers} layers, need {layer}"
            )
        self.model = model.eval()
        self.extractor = extractor
        self.layer = layer
        self.source = source
        self.dim = int(model.config.hidden_size)

    @classmethod
    def load(cls, source: str = W2V_BERT_DEFAULT, layer: int = 7) -> W2vBertFeatures:
        """From a hub id or a local directory; only the first `layer` layers are built."""
        from transformers import (
            AutoFeatureExtractor,
            SeamlessM4TFeatureExtractor,
            Wav2Vec2BertModel,
        )

        try:
            model = Wav2Vec2BertModel.from_pretrained(source, num_hidden_layers=layer)
        except (OSError, ValueError) as error:
            raise BandmateError(
                f"w2v-BERT {source!r}: cannot load ({str(error).strip().splitlines()[0]}); "
                "give a local directory holding config.json and the weights"
            ) from None
        try:
            extractor = AutoFeatureExtractor.from_pretrained(source)
        except (OSError, ValueError):
            # A directory with only the model: w2v-BERT 2.0's extractor has default settings.
            extractor = SeamlessM4TFeatureExtractor()
        return cls(model, extractor, layer, source)

    @torch.inference_mode()
    def __call__(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] at 16 kHz -> [B, F, hidden_size] float32, F = S // 320."""
        frames = num_frames(wav.shape[-1])
        padded = torch.nn.functional.pad(wav.float(), (120, 120)).numpy()
        inputs = self.extractor(
            list(padded), sampling_rate=SAMPLE_RATE_HZ, return_tensors="pt", padding=True
        )
        out = self.model(
            inputs["input_features"],
            attention_mask=inputs["attention_mask"],
            output_hidden_states=True,
        )
        # hidden_states[0] is the projected input, [i] the output of layer i.
        return out.hidden_states[self.layer][:, :frames].float().contiguous()

    def describe(self) -> dict[str, Any]:
        return {"kind": "w2v-bert", "model": self.source, "layer": self.layer, "dim": self.dim}


def build_features(settings: dict[str, Any]) -> FrameFeatures:
    """An extractor from `describe()` output (or a config's `kind`/`model`/`layer`)."""
    kind = settings.get("kind")
    if kind == "spectral":
        # State files written before these settings existed hold the defaults' features.
        return SpectralFeatures(
            int(settings.get("n_mfcc", 20)),
            int(settings.get("chroma_fft", SpectralFeatures.n_fft)),
            str(settings.get("chroma", "stft")),
        )
    if kind == "w2v-bert":
        return W2vBertFeatures.load(
            str(settings.get("model", W2V_BERT_DEFAULT)), int(settings.get("layer", 7))
        )
    raise BandmateError(f"unknown semantic features {kind!r}; known: spectral, w2v-bert")
