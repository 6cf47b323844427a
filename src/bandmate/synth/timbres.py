"""Which SoundFont renders each part of a song: the default one, or the reserved test timbres.

`--timbres default` renders every part with one font (TimGM6mb.sf2, or `--soundfont`).
`--timbres reserved` renders the unseen-timbre test set: each song plays its pitched parts
on one reserved General MIDI font (FluidR3_GM, MuseScore_General, ...: whichever are
installed) and its drums on one avldrums kit (Black Pearl or Red Zeppelin), both drawn from
a generator seeded by the song's seed and index alone, so the same seed and the same
installed fonts give the same bytes whatever the worker count. The list of reserved fonts
lives in bandmate.data.reserved; training refuses what they render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.data.reserved import find_reserved_soundfonts, unavailable_message
from bandmate.errors import BandmateError
from bandmate.synth.render import DrumKit, preset_record, soundfont_sha256
from bandmate.synth.score import Part

TIMBRES = ("default", "reserved")
# A fourth seed word keeps the timbre draws apart from the composers' [seed, index, attempt].
TIMBRE_STREAM = 0x74696D62

# The avldrums kits (x42 avldrums.lv2: Black Pearl 4pc, Red Zeppelin 4pc) hold one preset
# (bank 0, preset 0) with one piece per key from 36 to 61, most on their General MIDI keys:
# 36 kick, 37 side stick, 38 snare, 39 clap, 40 snare edge, 41/43 floor tom (centre/edge),
# 42 closed hat, 44 pedal hat, 45/47 rack tom (centre/edge), 46 semi-open hat, 49 crash,
# 51 ride, 53 ride bell, 54 tambourine, 55 splash, 56 cowbell, 57 crash 2, 59 ride tip.
# Elsewhere they differ (48 hat swish, 50/52/58 cymbal chokes, 60 china, 61 maracas), and
# a 4-piece kit has two toms where General MIDI has six: those keys move to the nearest
# piece, and keys the kits have nothing like are dropped (with their count in the manifest).
AVLDRUMS_KEYS: tuple[tuple[int, int | None], ...] = (
    *((key, None) for key in range(27, 35)),  # GM2's clicks, scratches and sticks
    (35, 36),  # acoustic bass drum -> kick
    (48, 45),  # hi-mid tom -> rack tom
    (50, 47),  # high tom -> rack tom, edge (its brighter hit)
    (52, 60),  # chinese cymbal -> china
    (58, None),  # vibraslap
    (60, None),  # high bongo
    (61, None),  # low bongo
    *((key, None) for key in range(62, 69)),  # congas, timbales, agogos
    (69, 61),  # cabasa -> maracas
    (70, 61),  # maracas
    *((key, None) for key in range(71, 82)),  # whistles, guiros, claves, blocks, cuicas, ...
    (82, 61),  # shaker (GM2) -> maracas
    *((key, None) for key in range(83, 88)),  # GM2's bells, castanets, surdos
)


@dataclass(frozen=True)
class Timbre:
    """One SoundFont that parts may be rendered with, as the manifest names it."""

    path: str  # the file loaded
    file: str  # its name (the name Debian gives it, for a reserved font)
    sha256: str
    kit: DrumKit | None = None  # a kit that is not a General MIDI drum bank

    def record(self, part: Part) -> dict[str, Any]:
        """The manifest's account of how this font plays `part`."""
        record: dict[str, Any] = {"file": self.file, "sha256": self.sha256}
        record.update(preset_record(part, self.path, self.kit))
        if self.kit is not None:
            record["notes_dropped"] = len(part.notes) - len(self.kit.notes(part.notes))
        return record


@dataclass(frozen=True)
class Palette:
    """The fonts songs draw from: General MIDI fonts and drum kits (none: drums are played
    on the General MIDI font's own kit)."""

    melodic: tuple[Timbre, ...]
    drums: tuple[Timbre, ...] = ()


@dataclass(frozen=True)
class SongTimbres:
    """The font of a song's pitched parts and that of its drums."""

    melodic: Timbre
    drums: Timbre

    def of(self, part: Part) -> Timbre:
        return self.drums if part.is_drum else self.melodic


def default_timbres(soundfont: str) -> SongTimbres:
    """Every part on one font, as `bandmate synth` rendered before the reserved timbres."""
    timbre = Timbre(soundfont, Path(soundfont).name, soundfont_sha256(soundfont))
    return SongTimbres(timbre, timbre)


def reserved_palette() -> Palette:
    """The reserved fonts installed here; a one-line `BandmateError` naming the Debian
    packages to install when no reserved General MIDI font is."""
    melodic, kits = find_reserved_soundfonts()
    if not melodic:
        raise BandmateError(f"--timbres reserved: {unavailable_message()}")
    return Palette(
        melodic=tuple(Timbre(str(f.path), f.name, f.sha256) for f in melodic),
        drums=tuple(
            Timbre(str(f.path), f.name, f.sha256, DrumKit("avldrums", 0, AVLDRUMS_KEYS))
            for f in kits
        ),
    )


def choose_timbres(palette: Palette, seed: int, index: int) -> SongTimbres:
    """The fonts of song `index`: one General MIDI font and one kit, drawn from its seed."""
    rng = np.random.default_rng([seed, index, TIMBRE_STREAM])
    melodic = palette.melodic[int(rng.integers(len(palette.melodic)))]
    kit = int(rng.integers(max(len(palette.drums), 1)))  # drawn always: draws stay aligned
    return SongTimbres(melodic, palette.drums[kit] if palette.drums else melodic)
