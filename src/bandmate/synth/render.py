"""Rendering parts to audio with a General MIDI SoundFont through TinySoundFont.

The default SoundFont is TimGM6mb.sf2, which ships inside the pretty_midi wheel, so
rendering needs no download. Any .sf2/.sf3 can replace it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.errors import BandmateError
from bandmate.synth.score import Part

MELODIC_CHANNEL, DRUM_CHANNEL = 0, 9


def default_soundfont() -> Path:
    """TimGM6mb.sf2 from the installed pretty_midi package."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise BandmateError(f"{path}: pretty_midi's bundled SoundFont is missing; give --soundfont")
    return path


@functools.cache
def soundfont_sha256(path: str) -> str:
    """Checksum of a SoundFont file, for the manifest."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.cache
def _soundfont_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise BandmateError(f"{path}: unreadable SoundFont ({error})") from None


def _load(path: str, sample_rate_hz: int, channels: int) -> Any:
    """A fresh synthesizer for one part, from the file's bytes (read once per process).

    Fresh, because TinySoundFont sums its voices in slot order and the slots a note gets
    depend on what played before: reusing one synthesizer would make a part's samples
    depend on the parts rendered before it in the same process (~17 ms per load).
    """
    from tinysoundfont import _tinysoundfont as tsf

    try:
        font = tsf.SoundFont(_soundfont_bytes(path))
    except Exception as error:  # the binding raises a bare Exception for bad files
        raise BandmateError(f"{path}: not a readable .sf2/.sf3 SoundFont ({error})") from None
    mode = tsf.OutputMode.Mono if channels == 1 else tsf.OutputMode.StereoInterleaved
    font.set_output(mode, sample_rate_hz, 0.0)
    font.set_max_voices(256)
    return font


def check_soundfont(path: str) -> None:
    """Raise `BandmateError` now, naming the file, if the SoundFont cannot be loaded."""
    _load(path, 16_000, 1)


def _select(font: Any, part: Part) -> int:
    """Set the part's program on its channel; fall back to the family's first program."""
    channel = DRUM_CHANNEL if part.is_drum else MELODIC_CHANNEL
    choices = [part.program, part.program // 8 * 8, 0]
    for program in choices:
        try:
            font.channel_set_preset_number(channel, program, part.is_drum)
            return channel
        except RuntimeError:
            continue
    raise BandmateError(f"SoundFont has no preset for program {part.program}")


def render_part(
    part: Part, num_samples: int, sample_rate_hz: int, channels: int, soundfont: str
) -> np.ndarray:
    """Play one part through the synthesizer.

    Returns:
        audio [C, S] float32 (C = `channels`, S = `num_samples`), not normalized.
    """
    font = _load(soundfont, sample_rate_hz, channels)
    channel = _select(font, part)
    if channels == 2:
        font.channel_set_pan(channel, (part.pan + 1.0) / 2.0)
    events = sorted(
        [(round(n.start_s * sample_rate_hz), 1, n.pitch, n.velocity) for n in part.notes]
        + [(round(n.end_s * sample_rate_hz), 0, n.pitch, 0) for n in part.notes]
    )  # note-offs (0) before note-ons (1) at the same sample
    buffer = np.zeros((num_samples, channels), dtype=np.float32)  # [S, C] interleaved
    position = 0
    for sample, is_on, pitch, velocity in events:
        sample = min(sample, num_samples)
        if sample > position:
            font.render(buffer[position:sample].data.cast("B"), False)
            position = sample
        if is_on:
            font.channel_note_on(channel, pitch, velocity / 127.0)
        else:
            font.channel_note_off(channel, pitch)
    if position < num_samples:
        font.render(buffer[position:].data.cast("B"), False)
    return np.ascontiguousarray(buffer.T)
