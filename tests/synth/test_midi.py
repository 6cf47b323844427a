"""The MIDI writer: what pretty_midi reads back is what was rendered."""

from __future__ import annotations

import io

import numpy as np
import pretty_midi

from bandmate.synth.band import band_song
from bandmate.synth.midi import midi_bytes


def test_midi_round_trip() -> None:
    score = band_song(np.random.default_rng([4, 2]), 10.0, "x")
    midi = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(score, score.parts)))
    assert abs(midi.get_tempo_changes()[1][0] - score.tempo_bpm) < 1e-3
    numerator, denominator = (int(x) for x in score.meter.split("/"))
    signature = midi.time_signature_changes[0]
    assert (signature.numerator, signature.denominator) == (numerator, denominator)
    assert len(midi.instruments) == len(score.parts)
    for part, instrument in zip(score.parts, midi.instruments, strict=True):
        assert instrument.name == part.name and instrument.is_drum == part.is_drum
        assert part.is_drum or instrument.program == part.program
        ours = sorted((n.start_s, n.end_s, n.pitch, n.velocity) for n in part.notes)
        theirs = sorted((n.start, n.end, n.pitch, n.velocity) for n in instrument.notes)
        assert [o[2:] for o in ours] == [t[2:] for t in theirs]
        np.testing.assert_allclose([o[:2] for o in ours], [t[:2] for t in theirs], atol=1e-4)
