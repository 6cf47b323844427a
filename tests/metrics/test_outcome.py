"""Calibration of the outcome classes on known cases (DESIGN.md §4)."""

import numpy as np
import pytest

from bandmate.metrics.outcome import classify_audio
from tests.metrics import signals
from tests.metrics.signals import RATE


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (signals.melody, "music"),
        (signals.drums, "music"),
        (signals.chords, "music"),
        (signals.bass_line, "music"),
        (signals.white_noise, "noise"),
        (signals.pink_noise, "noise"),
        (signals.noise_texture, "noise"),
        (signals.drone, "noise"),
        (signals.drone_changing, "noise"),
        (signals.near_zero, "silence"),
    ],
)
def test_known_cases(make, expected, seed):
    label, features = classify_audio(make(seed, seconds=6.0), RATE)
    assert label == expected, features


@pytest.mark.parametrize(
    ("program", "pitches", "drum"),
    [
        (0, [60, 64, 67, 72, 67, 64], False),  # piano arpeggio
        (33, [36, 36, 43, 41], False),  # finger bass
        (0, [36, 42, 38, 42], True),  # GM drum kit
        (48, [60, 62, 64, 65], False),  # strings
    ],
)
def test_rendered_general_midi_parts_are_music(program, pitches, drum):
    pytest.importorskip("tinysoundfont")
    wav = signals.render_gm(None, program, pitches, seconds=6.0, drum=drum)
    label, features = classify_audio(wav, RATE)
    assert label == "music", features


def test_any_sample_rate_and_zero_length():
    wav = signals.melody(0, seconds=4.0)
    import soxr

    label, _ = classify_audio(soxr.resample(wav, RATE, 16000), 16000)
    assert label == "music"
    assert classify_audio(np.zeros(0, dtype=np.float32), RATE)[0] == "silence"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decodes_of_random_tokens_are_noise(seed):
    """DESIGN.md §4: what an untrained model emits through the shipped codec is noise."""
    import torch

    from bandmate.codec import codec_from_checkpoint

    codec = codec_from_checkpoint("default")
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randint(
        0, codec.codebook_size, (1, codec.num_codebooks, 75 * 6), generator=generator
    )
    wav = codec.decode(codes)[0].numpy()
    label, features = classify_audio(wav, codec.sample_rate_hz)
    assert label == "noise", features
