"""The MIDI written beside each stem matches its audio: note onsets line up."""

from __future__ import annotations

import json

import numpy as np
import pretty_midi
import soundfile as sf

from bandmate.synth.dataset import SynthReport

HOP_S = 0.005


def onset_envelope(wav: np.ndarray, rate: int) -> np.ndarray:
    """Rise of log energy per 5 ms hop (10 ms windows). Returns [F]."""
    hop = int(HOP_S * rate)
    frames = np.lib.stride_tricks.sliding_window_view(wav, 2 * hop)[::hop]
    energy = np.log(np.mean(frames**2, axis=1) + 1e-9)
    return np.maximum(np.diff(energy, prepend=energy[0]), 0.0)


def best_lag_s(envelope: np.ndarray, onsets_s: np.ndarray, max_lag_s: float = 0.1) -> float:
    """Lag (audio minus MIDI) at which the onset envelope best matches the MIDI onsets."""
    frames = np.round(onsets_s / HOP_S).astype(int)
    lags = np.arange(-round(max_lag_s / HOP_S), round(max_lag_s / HOP_S) + 1)
    scores = []
    for lag in lags:
        idx = frames + lag
        idx = idx[(idx >= 0) & (idx < envelope.size)]
        scores.append(envelope[idx].sum())
    return float(lags[int(np.argmax(scores))] * HOP_S)


def test_midi_onsets_line_up_with_audio(tiny_dataset: SynthReport) -> None:
    manifest = json.loads((tiny_dataset.out / "manifest.json").read_text())
    checked = 0
    for song in manifest["songs"]:
        for stem in song["stems"]:
            if stem["part"] not in ("drums", "bass"):
                continue  # percussive onsets; pads and voices swell in slowly
            wav, rate = sf.read(tiny_dataset.out / stem["file"], dtype="float32")
            midi = pretty_midi.PrettyMIDI(str(tiny_dataset.out / stem["midi"]))
            onsets = np.array(sorted(n.start for n in midi.instruments[0].notes))
            assert len(midi.instruments[0].notes) == stem["notes"]
            lag = best_lag_s(onset_envelope(wav, rate), onsets)
            assert abs(lag) <= 0.015, (stem["file"], lag)
            checked += 1
    assert checked >= 6


def test_lag_detector_sees_a_shift(tiny_dataset: SynthReport) -> None:
    """The check above can fail: MIDI shifted by 50 ms is found 50 ms off."""
    manifest = json.loads((tiny_dataset.out / "manifest.json").read_text())
    stem = next(s for s in manifest["songs"][0]["stems"] if s["part"] == "drums")
    wav, rate = sf.read(tiny_dataset.out / stem["file"], dtype="float32")
    midi = pretty_midi.PrettyMIDI(str(tiny_dataset.out / stem["midi"]))
    onsets = np.array(sorted(n.start for n in midi.instruments[0].notes))
    lag = best_lag_s(onset_envelope(wav, rate), onsets + 0.05)
    assert abs(lag + 0.05) <= 0.015
