"""Realism: how far a set of generated parts sits from real stems of the same role.

One judge of the independent panel, which the candidate choice never uses. Two distances
between sets of clips, on one fixed frame-level feature set (`frame_features`):

- `frechet_distance`: the Fréchet distance between Gaussians fitted to the two sets'
  frames (as FAD, on hand-made features instead of an embedding model's);
- `two_sample_accuracy`: a classifier two-sample test. Each clip becomes the mean and std
  of its frames' features; a logistic regression learns to tell the sets apart, and its
  held-out balanced accuracy is the score: 0.5 when the sets are indistinguishable, 1.0
  when every clip is told apart.

Both compare sets, not clips, and want one clip per song in each set: several clips of
one song are alike, and the test then recognises songs (real vs real scored 0.96 with 5
clips per song from 12 songs). With one clip per song (benchmarks/panel_calibration.py,
TimGM6mb bass / drums / harmonic, 20-24 clips vs 20-24):

    real vs real                  accuracy 0.55 / 0.54 / 0.52, Fréchet 2.0k / 1.3k / 2.7k
    12 vs 12 real, 20 draws       accuracy 0.52 ± 0.10 / 0.51 ± 0.08 / 0.52 ± 0.08
                                  (max 0.67 / 0.72 / 0.65), Fréchet 3.3k / 3.0k / 7.5k
    codec-resynthesized vs real   accuracy 0.87 / 0.84 / 0.63, Fréchet 2.3k / 1.3k / 2.2k
    unseen fonts vs real          accuracy 0.83-0.97 (bass, drums), 0.47 (harmonic)
    white noise vs real           accuracy 1.00, Fréchet 155k-200k
    random codec tokens vs real   accuracy 0.98-1.00, Fréchet 30k-47k

The codec row is the ceiling a model that emits codec tokens can reach.

Non-finite samples are read as zeros (so a NaN clip scores like a silent one: far from
real stems, a failure of the generated set, never an exception); `realism` counts them.

Letters: S samples, F frames, D features, N clips.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import librosa
import numpy as np
import scipy.linalg

from bandmate.data.audio import resample

log = logging.getLogger(__name__)

ANALYSIS_RATE_HZ = 22050
N_FFT = 2048
HOP = 512  # 23 ms
N_MFCC = 20
N_CONTRAST_BANDS = 6  # spectral contrast: 6 octave bands from 200 Hz, plus the valley row
FEATURE_NAMES: tuple[str, ...] = (
    *(f"mfcc{i}" for i in range(N_MFCC)),
    *(f"contrast{i}" for i in range(N_CONTRAST_BANDS + 1)),
    "flatness_db",
    "centroid_st",
)
NUM_FEATURES = len(FEATURE_NAMES)  # D = 29
SQRTM_EPS = 1e-6  # added to both covariances' diagonals: the product's sqrtm stays real
FLOOR_DB = -100.0  # flatness floor, and what a silent frame's flatness reads as


def frame_features(wav: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """The fixed frame-level feature set of a mono clip, at ANALYSIS_RATE_HZ, hop HOP.

    Per frame (D = 29): 20 MFCC (librosa's: 128 mel bands, dB, DCT-II), spectral contrast
    in dB (6 octave bands and the valley row), spectral flatness in dB (floored at
    FLOOR_DB) and the spectral centroid in semitones above 1 kHz. Every column is in
    dB-like units, so that no column outweighs the others in a Fréchet distance just by
    its unit.

    Args:
        wav: audio [S] or [C, S] (channels are averaged) at `sample_rate_hz`; non-finite
            samples are read as zeros.
        sample_rate_hz: its sample rate.
    Returns:
        features [F, D] float64; F = 0 for an empty clip.
    """
    y = np.asarray(wav, dtype=np.float32)
    y = y.mean(axis=0) if y.ndim == 2 else y.reshape(-1)
    y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if y.size == 0:
        return np.zeros((0, NUM_FEATURES))
    y = resample(y, sample_rate_hz, ANALYSIS_RATE_HZ)
    if y.size < N_FFT:  # librosa centres frames; pad so a short clip still has its frames
        y = np.pad(y, (0, N_FFT - y.size))
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2  # [K, F]
    mel = librosa.feature.melspectrogram(S=power, sr=ANALYSIS_RATE_HZ, n_fft=N_FFT)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC)  # [20, F]
    with warnings.catch_warnings():
        # Contrast and flatness divide by a silent frame's zero energy; those frames are
        # set to finite values below.
        warnings.simplefilter("ignore", category=RuntimeWarning)
        contrast = librosa.feature.spectral_contrast(
            S=np.sqrt(power), sr=ANALYSIS_RATE_HZ, n_fft=N_FFT, n_bands=N_CONTRAST_BANDS
        )  # [7, F]
        flatness = librosa.feature.spectral_flatness(S=power, power=1.0)  # [1, F]
    flatness_db = np.maximum(10.0 * np.log10(np.maximum(flatness, 1e-30)), FLOOR_DB)
    freqs = librosa.fft_frequencies(sr=ANALYSIS_RATE_HZ, n_fft=N_FFT)
    total = power.sum(axis=0)
    centroid_hz = np.where(
        total > 0, (power * freqs[:, None]).sum(axis=0) / np.maximum(total, 1e-30), 1000.0
    )
    centroid_st = 12.0 * np.log2(np.maximum(centroid_hz, 20.0) / 1000.0)[None]  # [1, F]
    features = np.concatenate([mfcc, contrast, flatness_db, centroid_st]).T  # [F, D]
    return np.nan_to_num(features.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def frechet_distance(a_frames: np.ndarray, b_frames: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of frames.

        d = |mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))

    with SQRTM_EPS added to both covariances' diagonals, so that the matrix square root
    of their product exists (real) even for rank-deficient sets (silence, one repeated
    frame). 0 for identical distributions, in squared feature units otherwise.

    Args:
        a_frames: [Fa, D] frames of one set (all its clips' frames stacked).
        b_frames: [Fb, D] frames of the other, D equal.
    Returns:
        the distance (>= 0), or NaN when either set has fewer than 2 frames.
    """
    a = np.asarray(a_frames, dtype=np.float64)
    b = np.asarray(b_frames, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected [F, D] arrays of equal D, got {a.shape} and {b.shape}")
    if a.shape[0] < 2 or b.shape[0] < 2:
        return float("nan")
    eye = SQRTM_EPS * np.eye(a.shape[1])
    cov_a = np.cov(a, rowvar=False) + eye
    cov_b = np.cov(b, rowvar=False) + eye
    mean_term = float(np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2))
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    # sqrtm of a product of two SPD matrices has real eigenvalues; round-off leaves tiny
    # imaginary parts, which carry no information.
    trace = float(np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(np.real(root)))
    return max(mean_term + trace, 0.0)


CV_FOLDS = 5  # fewer when a set has fewer clips
CV_REPEATS = 10  # reshuffled fold assignments, averaged: steadies small sets' scores
LOGISTIC_C = 1.0  # inverse L2 strength on standardised clip vectors


def clip_vector(frames: np.ndarray) -> np.ndarray:
    """A clip's summary for the two-sample test: [2D] = mean and std of its frames [F, D]
    (zeros for a clip without frames)."""
    frames = np.asarray(frames, dtype=np.float64)
    if frames.shape[0] == 0:
        return np.zeros(2 * frames.shape[1])
    return np.concatenate([frames.mean(axis=0), frames.std(axis=0)])


def two_sample_accuracy(
    a_clips: Sequence[np.ndarray], b_clips: Sequence[np.ndarray], seed: int = 0
) -> float:
    """Classifier two-sample test: how well can clips of set a be told from set b?

    Each clip becomes `clip_vector` of its frames; a logistic regression (inputs
    standardised on the training folds, L2, C = LOGISTIC_C) is trained and scored by
    stratified K-fold (K = 5, or the smaller set's size), repeated CV_REPEATS times with
    reshuffled folds. The score is the held-out balanced accuracy (mean of the two sets'
    recalls, so that unequal set sizes keep chance at 0.5), averaged over the repeats.
    Leave-one-out is not used: with two indistinguishable sets it is biased below 0.5.

    Args:
        a_clips: per-clip frame features [F_i, D] of one set (at least 2 clips).
        b_clips: the same of the other set (at least 2 clips).
        seed: seeds the fold assignment (the result is a function of the inputs and seed).
    Returns:
        accuracy in [0, 1]: ~0.5 indistinguishable, 1.0 fully separable; NaN when a set
        has fewer than 2 clips.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold

    if min(len(a_clips), len(b_clips)) < 2:
        return float("nan")
    x = np.stack([clip_vector(f) for f in [*a_clips, *b_clips]])  # [N, 2D]
    labels = np.array([0] * len(a_clips) + [1] * len(b_clips))
    folds = min(CV_FOLDS, len(a_clips), len(b_clips))
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=CV_REPEATS, random_state=seed)
    predicted = np.zeros((CV_REPEATS, labels.size), dtype=int)
    for i, (train, test) in enumerate(splitter.split(x, labels)):
        # Standardised on the training folds only; liblinear: ~4x faster than lbfgs on
        # problems this small, and the fits are most of the test's time.
        mean, std = x[train].mean(axis=0), x[train].std(axis=0)
        std = np.where(std > 0, std, 1.0)
        model = LogisticRegression(C=LOGISTIC_C, solver="liblinear")
        model.fit((x[train] - mean) / std, labels[train])
        predicted[i // folds, test] = model.predict((x[test] - mean) / std)
    recalls = [(predicted[:, labels == c] == c).mean(axis=1) for c in (0, 1)]  # [R] each
    return float(np.mean((recalls[0] + recalls[1]) / 2.0))


def realism(
    generated_wavs: Sequence[np.ndarray],
    real_wavs: Sequence[np.ndarray],
    sample_rate_hz: int,
    seed: int = 0,
) -> dict[str, float]:
    """How far generated parts sit from real stems of the same role.

    Args:
        generated_wavs: clips [S] (or [C, S]) of the generated parts, at `sample_rate_hz`.
        real_wavs: clips of real stems of the same role, same rate.
        sample_rate_hz: the clips' sample rate.
        seed: for the two-sample test's folds.
    Returns:
        {"frechet": `frechet_distance` of the two sets' frames, "two_sample_accuracy":
        `two_sample_accuracy` of the clips, "generated_nonfinite": how many generated
        clips held non-finite samples (read as zeros), "real_nonfinite": the same of the
        real ones}. NaN scores when a set has too few clips.
    """
    generated = [frame_features(w, sample_rate_hz) for w in generated_wavs]
    real = [frame_features(w, sample_rate_hz) for w in real_wavs]
    bad = [
        sum(not np.isfinite(np.asarray(w)).all() for w in s) for s in (generated_wavs, real_wavs)
    ]
    if bad[0] or bad[1]:
        log.warning(
            "realism: non-finite samples read as zeros in %d generated, %d real clips", *bad
        )
    empty = np.zeros((0, NUM_FEATURES))
    return {
        "frechet": frechet_distance(
            np.concatenate([empty, *generated]), np.concatenate([empty, *real])
        ),
        "two_sample_accuracy": two_sample_accuracy(generated, real, seed),
        "generated_nonfinite": float(bad[0]),
        "real_nonfinite": float(bad[1]),
    }
