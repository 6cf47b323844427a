"""Rendering parts to audio with a General MIDI SoundFont through TinySoundFont.

The default SoundFont is TimGM6mb.sf2, which ships inside the pretty_midi wheel, so
rendering needs no download. Any .sf2/.sf3 can replace it, and drum parts can be played on
a kit that is not a General MIDI drum bank (`DrumKit`: the avldrums kits of the reserved
test timbres, see synth/timbres.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.errors import BandmateError
from bandmate.synth.score import Note, Part

MELODIC_CHANNEL, DRUM_CHANNEL = 0, 9


@dataclass(frozen=True)
class DrumKit:
    """A SoundFont that holds one drum kit as an ordinary preset, with its own key map.

    The avldrums kits are bank 0 preset 0, not in General MIDI's drum bank 128, and some of
    their keys hold other pieces than General MIDI's (a crash choke where GM has a tom).
    """

    name: str  # the key map's name, for the manifest (e.g. `avldrums`)
    preset_index: int  # the kit's preset
    # GM key -> the kit's key; None: the kit has nothing like it and the note is dropped;
    # keys not listed play as they are
    keys: tuple[tuple[int, int | None], ...] = ()

    def notes(self, notes: list[Note]) -> list[Note]:
        """`notes` on the kit's keys (GM keys it lacks left out)."""
        table = dict(self.keys)
        out = []
        for note in notes:
            key = table.get(note.pitch, note.pitch)
            if key is not None:
                out.append(dataclasses.replace(note, pitch=key))
        return out


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
def _loaded(path: str) -> Any:
    """The SoundFont parsed once per process (samples decoded: FluidR3_GM takes ~1.5 s and
    ~0.6 GB, MuseScore_General's .sf3 ~12 s and ~2 GB); `load_font` plays copies of it."""
    from tinysoundfont import _tinysoundfont as tsf

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BandmateError(f"{path}: unreadable SoundFont ({error})") from None
    try:
        return tsf.SoundFont(data)
    except Exception as error:  # the binding raises a bare Exception for bad files
        raise BandmateError(f"{path}: not a readable .sf2/.sf3 SoundFont ({error})") from None


def load_font(path: str, sample_rate_hz: int, channels: int) -> Any:
    """A fresh synthesizer for one part: a copy of the parsed font (shares its samples).

    Fresh, because TinySoundFont sums its voices in slot order and the slots a note gets
    depend on what played before: reusing one synthesizer would make a part's samples
    depend on the parts rendered before it in the same process. A copy (tsf_copy) starts
    with no voices and no channels, exactly as a font parsed anew, without parsing again.
    """
    from tinysoundfont import _tinysoundfont as tsf

    font = tsf.SoundFont(_loaded(path))
    mode = tsf.OutputMode.Mono if channels == 1 else tsf.OutputMode.StereoInterleaved
    font.set_output(mode, sample_rate_hz, 0.0)
    font.set_max_voices(256)
    return font


def check_soundfont(path: str) -> None:
    """Raise `BandmateError` now, naming the file, if the SoundFont cannot be loaded."""
    load_font(path, 16_000, 1)


def _select(font: Any, part: Part, kit: DrumKit | None = None) -> int:
    """Set the part's program on its channel; fall back to the family's first program."""
    channel = DRUM_CHANNEL if part.is_drum else MELODIC_CHANNEL
    if kit is not None:
        font.channel_set_preset_index(channel, kit.preset_index)
        return channel
    choices = [part.program, part.program // 8 * 8, 0]
    for program in choices:
        try:
            font.channel_set_preset_number(channel, program, part.is_drum)
            return channel
        except RuntimeError:
            continue
    raise BandmateError(f"SoundFont has no preset for program {part.program}")


def preset_record(part: Part, soundfont: str, kit: DrumKit | None = None) -> dict[str, Any]:
    """The preset that plays `part` in `soundfont` (after fallbacks), for the manifest:
    {preset: name, program: its number, bank: 128 for General MIDI drum kits, else 0}."""
    font = load_font(soundfont, 16_000, 1)
    channel = _select(font, part, kit)
    record: dict[str, Any] = {
        "preset": font.get_preset_name(font.channel_get_preset_index(channel)),
        "program": font.channel_get_preset_number(channel),
        "bank": 128 if part.is_drum and kit is None else 0,
    }
    if kit is not None:
        record["kit_keys"] = kit.name
    return record


def render_part(
    part: Part,
    num_samples: int,
    sample_rate_hz: int,
    channels: int,
    soundfont: str,
    kit: DrumKit | None = None,
) -> np.ndarray:
    """Play one part through the synthesizer.

    Args:
        kit: for a drum part, the kit preset and key map to play it with (default: the
            font's General MIDI drum kit, keys as they are).
    Returns:
        audio [C, S] float32 (C = `channels`, S = `num_samples`), not normalized.
    """
    font = load_font(soundfont, sample_rate_hz, channels)
    channel = _select(font, part, kit)
    if channels == 2:
        font.channel_set_pan(channel, (part.pan + 1.0) / 2.0)
    notes = part.notes if kit is None else kit.notes(part.notes)
    events = sorted(
        [(round(n.start_s * sample_rate_hz), 1, n.pitch, n.velocity) for n in notes]
        + [(round(n.end_s * sample_rate_hz), 0, n.pitch, 0) for n in notes]
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
