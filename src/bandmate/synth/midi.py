"""MIDI files of the rendered parts (one per stem, and one with every part)."""

from __future__ import annotations

import io
from pathlib import Path

from bandmate.io import atomic_write_bytes
from bandmate.synth.humanize import TICKS_PER_BEAT
from bandmate.synth.score import Part, Score
from bandmate.synth.theory import PITCH_NAMES


def _key_number(key: str) -> int | None:
    """pretty_midi key number (0-11 major, 12-23 minor) of e.g. `E minor`; modes map to
    the major or minor of the same tonic."""
    tonic, _, mode = key.partition(" ")
    if tonic not in PITCH_NAMES:
        return None
    return PITCH_NAMES.index(tonic) + (12 if mode in ("minor", "dorian") else 0)


def _midi(score: Score, parts: list[Part]) -> bytes:
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(resolution=TICKS_PER_BEAT, initial_tempo=score.tempo_bpm)
    numerator, _, denominator = score.meter.partition("/")
    if numerator.isdigit() and denominator.isdigit():
        midi.time_signature_changes.append(
            pretty_midi.TimeSignature(int(numerator), int(denominator), 0.0)
        )
    key_number = _key_number(score.key)
    if key_number is not None:
        midi.key_signature_changes.append(pretty_midi.KeySignature(key_number, 0.0))
    for part in parts:
        instrument = pretty_midi.Instrument(part.program, is_drum=part.is_drum, name=part.name)
        for note in sorted(part.notes, key=lambda n: (n.start_s, n.pitch)):
            instrument.notes.append(
                pretty_midi.Note(note.velocity, note.pitch, note.start_s, note.end_s)
            )
        midi.instruments.append(instrument)
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def write_part_midi(path: Path, score: Score, part: Part) -> None:
    """One part as a MIDI file (tempo, meter and key of the song included)."""
    atomic_write_bytes(path, _midi(score, [part]))


def write_score_midi(path: Path, score: Score) -> None:
    """All parts of a song in one MIDI file, one track each."""
    atomic_write_bytes(path, _midi(score, score.parts))
