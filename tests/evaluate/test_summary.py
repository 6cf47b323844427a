"""How `bandmate evaluate` sums clips up: fits that cannot reward a copy of the input, and
the mirror flag."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.evaluate.run import MIRROR_MARGIN, clip_row, summarize, system_metrics
from tests.metrics import signals
from tests.metrics.signals import RATE


def _envelope_copy(wav: np.ndarray, seed: int) -> np.ndarray:
    """Noise bursts on the input's onsets: what the drum model did with a bass line (its
    drums followed the bass's envelope more closely than real drums: rhythm similarity
    0.75 against 0.46)."""
    import librosa

    onsets = librosa.onset.onset_detect(y=wav, sr=RATE, units="samples")
    t = np.arange(round(0.2 * RATE)) / RATE
    hit = 0.3 * np.random.default_rng(seed).standard_normal(t.size) * np.exp(-20 * t)
    out = np.zeros_like(wav)
    for start in onsets:
        end = min(start + hit.size, out.size)
        out[start:end] += hit[: end - start].astype(np.float32)
    return out


def _rows(parts: dict[str, list[np.ndarray]], inputs: list[np.ndarray]) -> list[dict]:
    return [
        clip_row({"input": source, **{name: wavs[i] for name, wavs in parts.items()}}, RATE)
        for i, source in enumerate(inputs)
    ]


def test_a_part_that_copies_the_input_envelope_is_flagged_as_a_mirror() -> None:
    seconds, n = 6.0, 4
    inputs = [signals.bass_line(seed, seconds) for seed in range(n)]
    originals = [signals.drums(seed, seconds, bpm=100.0) for seed in range(n)]
    parts = {
        "original": originals,
        "shuffled": [signals.drums(seed, seconds, bpm=137.0) for seed in range(n)],
        "single": [_envelope_copy(x, i) for i, x in enumerate(inputs)],  # the copy
        "kept": [signals.drums(seed + 10, seconds, bpm=100.0) for seed in range(n)],
    }
    rows = _rows(parts, inputs)
    copy, player = system_metrics(rows, "single"), system_metrics(rows, "kept")
    assert copy["mirror/rhythm"] >= 0.75  # flagged
    assert player["mirror/rhythm"] <= 0.25  # another drummer on the beat is not
    # The copy's raw fit reads above the original's; the capped fit cannot.
    assert copy["fit/rhythm"] > 1.0
    assert copy["fit/rhythm_capped"] <= 1.0 + 1e-9


def test_capped_fit_counts_each_clip_at_most_at_the_original() -> None:
    rows = [
        {
            "outcome/single": "music",
            "outcome/original": "music",
            "outcome/shuffled": "music",
            "chroma/single": s,
            "chroma/original": o,
            "chroma/shuffled": 0.2,
            "rhythm/single": s,
            "rhythm/original": o,
            "rhythm/shuffled": 0.2,
        }
        for s, o in ((0.9, 0.5), (0.3, 0.5))
    ]
    metrics = system_metrics(rows, "single")
    assert metrics["fit/rhythm"] == pytest.approx((0.6 - 0.2) / 0.3)
    assert metrics["fit/rhythm_capped"] == pytest.approx((0.4 - 0.2) / 0.3)
    assert metrics["mirror/rhythm"] == pytest.approx(0.5)  # 0.9 > 0.5 + margin
    assert MIRROR_MARGIN < 0.4


def test_single_tries_lead_and_kept_stand_beside_them() -> None:
    base = {"outcome/original": "music", "outcome/shuffled": "noise"}
    rows = [
        {
            **base,
            "outcome/single": outcome,
            "outcome/kept": "music",
            **{f"{k}/{s}": 0.5 for k in ("chroma", "rhythm") for s in ("single", "kept")},
            **{
                f"{k}/{s}": v
                for k in ("chroma", "rhythm")
                for s, v in (("original", 0.8), ("shuffled", 0.1))
            },
            "panel/single/beat_f": 0.25,
            "panel/kept/beat_f": 0.75,
            "panel/original/beat_f": 1.0,
        }
        for outcome in ("noise", "music")
    ]
    metrics = summarize(rows, {}, ["single", "kept", "original", "shuffled"])
    assert metrics["outcome/music"] == metrics["single/outcome/music"] == 0.5
    assert metrics["kept/outcome/music"] == 1.0
    assert metrics["single/panel/beat_f"] == 0.25 and metrics["kept/panel/beat_f"] == 0.75
    assert metrics["panel/beat_f"] == 0.25  # the thesis's unprefixed keys: single tries
    assert set(metrics["baselines"]) == {"original", "shuffled"}
    assert metrics["baselines"]["original"]["panel/beat_f"] == 1.0
