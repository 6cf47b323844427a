"""The MIDI written beside each stem matches its audio: note onsets line up."""

from __future__ import annotations

import json

import numpy as np
import pretty_midi
import soundfile as sf

from bandmate.synth.dataset import SynthReport

HOP_S = 0.005
WINDOW_S = 0.03  # longer than a period of the lowest bass notes (~40 Hz), so no ripple


def onset_envelope(wav: np.ndarray, rate: int) -> np.ndarray:
    """Rise of log energy per 5 ms hop; frame f is the window that ends at f * HOP_S, so an
    onset raises the energy from its own frame on. Returns [F]."""
    hop, window = int(HOP_S * rate), int(WINDOW_S * rate)
    padded = np.pad(wav, (window, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, window)[::hop]
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
    """Audio never starts before its MIDI note; it may lag by the instrument's attack."""
    manifest = json.loads((tiny_dataset.out / "manifest.json").read_text())
    checked = 0
    for song in manifest["songs"]:
        for stem in song["stems"]:
            # Percussive parts sound at once; pads and voices swell in over tens of ms.
            attack_s = 0.03 if stem["part"] in ("drums", "bass", "percussion") else 0.06
            wav, rate = sf.read(tiny_dataset.out / stem["file"], dtype="float32")
            midi = pretty_midi.PrettyMIDI(str(tiny_dataset.out / stem["midi"]))
            onsets = np.array(sorted(n.start for n in midi.instruments[0].notes))
            assert len(midi.instruments[0].notes) == stem["notes"]
            lag = best_lag_s(onset_envelope(wav, rate), onsets)
            assert -HOP_S <= lag <= attack_s, (stem["file"], lag)
            checked += 1
    assert checked >= 20


def test_lag_detector_sees_a_shift(tiny_dataset: SynthReport) -> None:
    """The check above can fail: MIDI shifted by 50 ms is found 50 ms off."""
    manifest = json.loads((tiny_dataset.out / "manifest.json").read_text())
    stem = next(s for s in manifest["songs"][0]["stems"] if s["part"] == "drums")
    wav, rate = sf.read(tiny_dataset.out / stem["file"], dtype="float32")
    midi = pretty_midi.PrettyMIDI(str(tiny_dataset.out / stem["midi"]))
    onsets = np.array(sorted(n.start for n in midi.instruments[0].notes))
    lag = best_lag_s(onset_envelope(wav, rate), onsets + 0.05)
    assert -0.05 - HOP_S <= lag <= -0.05 + 0.03
