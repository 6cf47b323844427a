"""Outcome class of a generated clip: music, silence or noise (DESIGN.md §4).

Automates the thesis's manual labels. Under-trained models produce a dense noisy
texture or a held drone with a few clicks; neither is an accompaniment. So "music"
needs one of two kinds of structure, measured with librosa:

- melodic/harmonic: tonal frames (chroma concentrated on few pitch classes: a note with
  its overtones, or a chord) whose pitch content moves (the dominant pitch class
  changes), with note onsets;
- rhythmic: many onsets that recur periodically (a strong peak in the autocorrelation
  of the onset envelope at a musical lag, 0.2-2 s).

Thresholds were calibrated on known cases (tests/metrics/test_outcome.py): rendered
accompaniments and synthetic note sequences/drum patterns are music, white/pink noise,
noise textures, drones (held chords with a few clicks, also when the chord changes once)
and decodes of random tokens are noise, near-zero signals are silence.

A frame is tonal when one pitch class dominates an STFT's chroma, or when three hold
most of a constant-Q transform's. The STFT alone cannot tell a bass line's notes apart
(10.8 Hz bins at 2048 points, while E1 and F1 are 2.4 Hz apart), and a chord spreads
its energy over three pitch classes: with it alone, no frame of the songs' own bass
lines and few of the chorales' three-voice parts were tonal, so real bass lines passed
only when their rhythm was periodic enough, and a sixth of training chorales' true
parts were called noise.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Literal

import librosa
import numpy as np

from bandmate.data.audio import resample, rms_db
from bandmate.metrics.similarity import ANALYSIS_RATE_HZ, HOP, cqt_chroma

Outcome = Literal["music", "silence", "noise"]

SILENCE_DB = -50.0  # whole-clip RMS below this is silence
TONAL_PEAK = 0.40  # STFT chroma frame's max share above this is tonal (flat noise ~0.12)
TONAL_TOP3 = 0.60  # CQT chroma frame's share in its top 3 pitch classes (flat noise ~0.3)
MIN_TONAL_SHARE = 0.35  # share of active frames that must be tonal for melodic music
MIN_PITCH_CHANGES_PER_S = 0.25  # dominant pitch-class changes per second (a drone has 0)
MIN_ONSETS_PER_S = 1.0  # note starts per second for melodic music (a few clicks are fewer)
MIN_RHYTHM_ONSETS_PER_S = 1.5  # onsets per second for rhythmic music
MIN_PERIODICITY = 0.35  # onset-envelope autocorrelation peak for rhythmic music
MAX_FLATNESS = 0.40  # median spectral flatness above this is noise (white ~0.55, kits ~0.3)


@dataclass(frozen=True)
class OutcomeFeatures:
    """The measurements behind one outcome decision (kept for the report)."""

    rms_db: float
    flatness: float  # median spectral flatness of active frames (white noise ~0.5+)
    tonal_share: float  # share of active frames that are tonal (TONAL_PEAK or TONAL_TOP3)
    pitch_changes_per_s: float  # changes of the dominant pitch class among tonal frames
    onsets_per_s: float
    periodicity: float  # autocorrelation peak of the onset envelope at 0.2-2 s lags

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _periodicity(envelope: np.ndarray, frame_rate_hz: float) -> float:
    env = envelope - envelope.mean()
    if env.size < 8 or not np.any(env):
        return 0.0
    ac = np.correlate(env, env, mode="full")[env.size - 1 :]
    ac = ac / ac[0]
    low, high = int(0.2 * frame_rate_hz), min(int(2.0 * frame_rate_hz), ac.size - 1)
    return float(ac[low:high].max()) if high > low else 0.0


def _pitch_features(
    wav: np.ndarray, active: np.ndarray, seconds: float, cqt: np.ndarray | None
) -> tuple[float, float]:
    # Two views of pitch; a frame is tonal in either. The STFT's (tuning=0: A440, as
    # estimating it fails on noise) sees one clear note in the middle and upper
    # registers; the CQT's (the fit metric's, same rate and hop) also resolves bass
    # notes, and its top three pitch classes hold a chord.
    stft = librosa.feature.chroma_stft(y=wav, sr=ANALYSIS_RATE_HZ, hop_length=HOP, tuning=0.0)
    cqt = cqt_chroma(wav) if cqt is None else cqt  # [12, frames]
    n = min(stft.shape[1], cqt.shape[1], active.size)
    stft, cqt, active = stft[:, :n], cqt[:, :n], active[:n]
    one_note = stft.max(axis=0) / np.maximum(stft.sum(axis=0), 1e-9) > TONAL_PEAK
    few_notes = np.sort(cqt, axis=0)[-3:].sum(axis=0) / np.maximum(cqt.sum(axis=0), 1e-9)
    tonal = (one_note | (few_notes > TONAL_TOP3)) & active
    tonal_share = float(tonal.sum() / max(active.sum(), 1))
    dominant = np.where(one_note, stft.argmax(axis=0), cqt.argmax(axis=0))[tonal]
    # Smooth over single-frame flicker: a change counts when it holds for 3 frames.
    runs = [
        int(d)
        for i, d in enumerate(dominant)
        if i + 2 < dominant.size and dominant[i + 1] == d and dominant[i + 2] == d
    ]
    changes = sum(1 for a, b in itertools.pairwise(runs) if a != b)
    return tonal_share, changes / seconds


def outcome_features(
    wav: np.ndarray, sample_rate_hz: int, cqt: np.ndarray | None = None
) -> OutcomeFeatures:
    """Measure a mono clip [S] for `classify` (`cqt`: its CQT chroma, `fit.cqt_chroma` of
    it at ANALYSIS_RATE_HZ, when already computed)."""
    wav = resample(np.asarray(wav, dtype=np.float32), sample_rate_hz, ANALYSIS_RATE_HZ)
    seconds = max(wav.size / ANALYSIS_RATE_HZ, 1e-3)
    level = rms_db(wav)
    if level < SILENCE_DB:
        return OutcomeFeatures(level, 0.0, 0.0, 0.0, 0.0, 0.0)
    frame_rms = librosa.feature.rms(y=wav, hop_length=HOP)[0]
    active = frame_rms > 10 ** ((level - 20.0) / 20.0)
    flat = librosa.feature.spectral_flatness(y=wav, hop_length=HOP)[0]
    flatness = float(np.median(flat[: active.size][active[: flat.size]])) if active.any() else 1.0
    tonal_share, changes = _pitch_features(wav, active, seconds, cqt)
    envelope = librosa.onset.onset_strength(y=wav, sr=ANALYSIS_RATE_HZ, hop_length=HOP)
    onsets = librosa.onset.onset_detect(
        onset_envelope=envelope, sr=ANALYSIS_RATE_HZ, hop_length=HOP, backtrack=False
    )
    periodicity = _periodicity(envelope, ANALYSIS_RATE_HZ / HOP)
    return OutcomeFeatures(
        level, flatness, tonal_share, changes, onsets.size / seconds, periodicity
    )


def classify(features: OutcomeFeatures) -> Outcome:
    """music / silence / noise from the measured features (thresholds above)."""
    if features.rms_db < SILENCE_DB:
        return "silence"
    if features.flatness > MAX_FLATNESS:
        return "noise"
    melodic = (
        features.tonal_share >= MIN_TONAL_SHARE
        and features.pitch_changes_per_s >= MIN_PITCH_CHANGES_PER_S
        and features.onsets_per_s >= MIN_ONSETS_PER_S
    )
    rhythmic = (
        features.onsets_per_s >= MIN_RHYTHM_ONSETS_PER_S and features.periodicity >= MIN_PERIODICITY
    )
    return "music" if melodic or rhythmic else "noise"


def classify_audio(
    wav: np.ndarray, sample_rate_hz: int, cqt: np.ndarray | None = None
) -> tuple[Outcome, OutcomeFeatures]:
    """Outcome class and features of a mono clip [S] (`cqt` as for `outcome_features`)."""
    features = outcome_features(wav, sample_rate_hz, cqt)
    return classify(features), features
