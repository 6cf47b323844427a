"""MIDI files of the rendered parts (one per stem, and one with every part).

A small Standard MIDI File writer (format 1, `TICKS_PER_BEAT` ticks per quarter note): the
note times are already on that tick grid (humanize.py), so the file holds exactly the
times the audio was rendered from, and writing it costs a few milliseconds per song.
"""

from __future__ import annotations

import struct
from pathlib import Path

from bandmate.io import atomic_write_bytes
from bandmate.synth.humanize import TICKS_PER_BEAT
from bandmate.synth.score import Part, Score
from bandmate.synth.theory import PITCH_NAMES

DRUM_CHANNEL = 9
# Sharps (+) or flats (-) of each major key's signature, by tonic pitch class.
MAJOR_SHARPS = (0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5)


def _varlen(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    """An MTrk chunk from (tick, order, message) events; order sorts equal ticks."""
    data = bytearray()
    now = 0
    for tick, _, message in sorted(events):
        data += _varlen(tick - now) + message
        now = tick
    data += b"\x00\xff\x2f\x00"  # end of track
    return b"MTrk" + struct.pack(">I", len(data)) + bytes(data)


def _meta(kind: int, payload: bytes) -> bytes:
    return bytes([0xFF, kind]) + _varlen(len(payload)) + payload


def _conductor(score: Score) -> bytes:
    """Tempo, time signature and key signature (modes as the major/minor of their tonic)."""
    tempo = round(60_000_000 / score.tempo_bpm)
    events = [(0, 0, _meta(0x51, tempo.to_bytes(3, "big")))]
    numerator, _, denominator = score.meter.partition("/")
    if numerator.isdigit() and denominator.isdigit() and int(denominator) in (1, 2, 4, 8, 16):
        power = int(denominator).bit_length() - 1
        events.append((0, 1, _meta(0x58, bytes([int(numerator), power, 24, 8]))))
    tonic, _, mode = score.key.partition(" ")
    if tonic in PITCH_NAMES:
        minor = mode in ("minor", "dorian")
        sharps = MAJOR_SHARPS[(PITCH_NAMES.index(tonic) + (3 if minor else 0)) % 12]
        events.append((0, 2, _meta(0x59, struct.pack(">bB", sharps, int(minor)))))
    return _track(events)


def _part_track(part: Part, channel: int, tick_s: float) -> bytes:
    events = [
        (0, 0, _meta(0x03, part.name.encode())),
        (0, 1, bytes([0xC0 | channel, 0 if part.is_drum else part.program])),
    ]
    for note in part.notes:
        start, end = round(note.start_s / tick_s), max(round(note.end_s / tick_s), 1)
        end = max(end, start + 1)
        # Note-offs sort before note-ons at the same tick (order 2 < 3).
        events.append((start, 3, bytes([0x90 | channel, note.pitch, note.velocity])))
        events.append((end, 2, bytes([0x80 | channel, note.pitch, 0])))
    return _track(events)


def midi_bytes(score: Score, parts: list[Part]) -> bytes:
    """A format-1 MIDI file: a conductor track, then one track per part."""
    tick_s = 60.0 / (score.tempo_bpm * TICKS_PER_BEAT)
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    tracks = [_conductor(score)]
    for index, part in enumerate(parts):
        channel = DRUM_CHANNEL if part.is_drum else melodic[index % len(melodic)]
        tracks.append(_part_track(part, channel, tick_s))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), TICKS_PER_BEAT)
    return header + b"".join(tracks)


def write_part_midi(path: Path, score: Score, part: Part) -> None:
    """One part as a MIDI file (tempo, meter and key of the song included)."""
    atomic_write_bytes(path, midi_bytes(score, [part]))


def write_score_midi(path: Path, score: Score) -> None:
    """All parts of a song in one MIDI file, one track and channel each."""
    atomic_write_bytes(path, midi_bytes(score, score.parts))
