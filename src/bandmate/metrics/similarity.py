"""Fit of an accompaniment to its input (DESIGN.md §4), normalised by two baselines.

    fit = (s(generated, input) - s(shuffled, input)) / (s(original, input) - s(shuffled, input))

so that another song's accompaniment (shuffled) scores 0 and the true one scores 1.
- `fit/chroma`: s = mean cosine of time-aligned chroma frames (do they play in one key
  and follow the same chords?), over frames where both signals are active;
- `fit/rhythm`: s = the peak normalised cross-correlation of the two onset-strength
  envelopes within ±70 ms (do their onsets coincide?).
The normalised fit is computed from similarities averaged over all clips of a run: a
single clip's denominator can be near zero, which makes per-clip ratios meaningless.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import librosa
import numpy as np

from bandmate.data.audio import resample

ANALYSIS_RATE_HZ = 22050
HOP = 512
MAX_LAG_S = 0.07


def _align(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(a.shape[-1], b.shape[-1])
    return a[..., :n], b[..., :n]


def _prepare(wav: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    return resample(np.asarray(wav, dtype=np.float32), sample_rate_hz, ANALYSIS_RATE_HZ)


def cqt_chroma(wav: np.ndarray) -> np.ndarray:
    """CQT chroma [12, F] at A440 of a mono clip [S] at ANALYSIS_RATE_HZ (hop HOP)."""
    with warnings.catch_warnings():
        # The CQT's lowest octaves are computed on a signal decimated to a few hundred
        # samples, for which librosa warns that its FFT is longer than the input. Expected.
        warnings.filterwarnings("ignore", message="n_fft=.*is too large", category=UserWarning)
        return librosa.feature.chroma_cqt(y=wav, sr=ANALYSIS_RATE_HZ, hop_length=HOP, tuning=0.0)


@dataclass(frozen=True)
class FitFeatures:
    """What the fit similarities compare of one mono clip, at ANALYSIS_RATE_HZ, hop HOP.
    Computed once per clip: choosing among candidates compares each with one input."""

    chroma: np.ndarray  # [12, F] CQT chroma
    rms: np.ndarray  # [F'] RMS energy, where the chroma counts
    onsets: np.ndarray  # [F''] onset strength envelope


def clip_chromas(wavs: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """CQT chromas [B, 12, F] of mono clips [B, S], as `cqt_chroma` gives each: one call
    for all, because librosa builds the CQT's filters anew at every call (most of the
    time of one 4 s clip's chroma)."""
    return cqt_chroma(np.stack([_prepare(wav, sample_rate_hz) for wav in wavs]))


def fit_features(
    wav: np.ndarray, sample_rate_hz: int, chroma: np.ndarray | None = None
) -> FitFeatures:
    """The features of a mono clip [S] at `sample_rate_hz` (`chroma`: its CQT chroma, when
    already computed, e.g. by `clip_chromas`)."""
    x = _prepare(wav, sample_rate_hz)
    return FitFeatures(
        chroma=cqt_chroma(x) if chroma is None else chroma,
        rms=librosa.feature.rms(y=x, hop_length=HOP)[0],
        onsets=librosa.onset.onset_strength(y=x, sr=ANALYSIS_RATE_HZ, hop_length=HOP),
    )


def chroma_similarity(a: np.ndarray, b: np.ndarray, sample_rate_hz: int) -> float:
    """Mean cosine between time-aligned chroma frames of two mono clips [S] (0 if none)."""
    return chroma_match(fit_features(a, sample_rate_hz), fit_features(b, sample_rate_hz))


def rhythm_similarity(a: np.ndarray, b: np.ndarray, sample_rate_hz: int) -> float:
    """Peak normalised cross-correlation of onset envelopes within ±70 ms, in [-1, 1]."""
    return rhythm_match(fit_features(a, sample_rate_hz), fit_features(b, sample_rate_hz))


def chroma_match(a: FitFeatures, b: FitFeatures) -> float:
    """`chroma_similarity` of two clips' features."""
    ca, cb = _align(a.chroma, b.chroma)
    ra, rb = _align(a.rms, b.rms)
    n = min(ca.shape[1], ra.size)
    active = (ra[:n] > 1e-3) & (rb[:n] > 1e-3)
    if not active.any():
        return 0.0
    ca, cb = ca[:, :n][:, active], cb[:, :n][:, active]
    cos = (ca * cb).sum(0) / np.maximum(
        np.linalg.norm(ca, axis=0) * np.linalg.norm(cb, axis=0), 1e-9
    )
    return float(cos.mean())


def rhythm_match(a: FitFeatures, b: FitFeatures) -> float:
    """`rhythm_similarity` of two clips' features."""
    ea, eb = _align(a.onsets, b.onsets)
    ea, eb = ea - ea.mean(), eb - eb.mean()
    norm = float(np.linalg.norm(ea) * np.linalg.norm(eb))
    if norm == 0.0:
        return 0.0
    max_lag = int(MAX_LAG_S * ANALYSIS_RATE_HZ / HOP)
    best = max(
        float(np.dot(ea[max(0, k) : ea.size + min(0, k)], eb[max(0, -k) : eb.size - max(0, k)]))
        for k in range(-max_lag, max_lag + 1)
    )
    return best / norm


# The scale from shuffled (0) to original (1) means something only when the original
# accompaniment is measurably closer to the input than another song's. Drums carry no
# pitch: a bass line's chroma similarity to the drums it was played with (0.663, demo
# songs) equals its similarity to other songs' drums (0.661), and dividing by that span
# turned a generated bass's 0.81 into a "fit" of 81.
MIN_SPAN = 0.05


def normalized_fit(
    generated: Sequence[float], original: Sequence[float], shuffled: Sequence[float]
) -> float:
    """(mean gen - mean shuffled) / (mean original - mean shuffled); NaN when undefined,
    i.e. when the original beats the shuffled baseline by less than MIN_SPAN."""
    gen, orig, shuf = (
        float(np.mean(x)) if len(x) else float("nan") for x in (generated, original, shuffled)
    )
    span = orig - shuf
    return (gen - shuf) / span if span >= MIN_SPAN else float("nan")
