"""What renders each part of a song: a varied pool, one SoundFont, or the reserved timbres.

`--timbres varied` (the default) draws every part's sound from a pool of sources: every
General MIDI SoundFont installed that is not reserved (pretty_midi's TimGM6mb, Debian's
csound-soundfont and opl3-soundfont), with a program drawn within the part's role; the
recorded Hydrogen kits of Debian's hydrogen-drumkits (synth/kits.py); and numpy synthesizer
patches for basses and pads (synth/patches.py). Draws come from a generator seeded by
[seed, song, TIMBRE_STREAM, part position], so they depend on nothing else.
`--timbres single` renders every part with one font (TimGM6mb.sf2, or `--soundfont`): what
`bandmate synth` rendered before issue #34, and what the shipped models were trained on.
`--timbres reserved` renders the unseen-timbre test set: each song plays its pitched parts
on one reserved General MIDI font (FluidR3_GM, MuseScore_General, ...: whichever are
installed) and its drums on one avldrums kit (Black Pearl or Red Zeppelin), both drawn from
a generator seeded by the song's seed and index alone, so the same seed and the same
installed fonts give the same bytes whatever the worker count. The list of reserved fonts
lives in bandmate.data.reserved; training refuses what they render.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.data.reserved import (
    file_sha256,
    find_reserved_soundfonts,
    is_reserved,
    search_dirs,
    unavailable_message,
)
from bandmate.errors import BandmateError
from bandmate.synth.kits import HydrogenKit, find_kits, kit_notes_dropped, render_kit
from bandmate.synth.patches import PATCHES, Patch, jitter_patch, render_patch
from bandmate.synth.render import (
    DRUM_CHANNEL,
    DrumKit,
    check_soundfont,
    default_soundfont,
    load_font,
    preset_record,
    render_part,
    soundfont_sha256,
)
from bandmate.synth.score import Part

TIMBRES = ("varied", "single", "reserved")
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

    def render(
        self, part: Part, num_samples: int, sample_rate_hz: int, channels: int
    ) -> np.ndarray:
        """`part` on this font: [C, S] float32 (see `render_part`)."""
        return render_part(part, num_samples, sample_rate_hz, channels, self.path, kit=self.kit)

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


def single_timbres(soundfont: str) -> SongTimbres:
    """Every part on one font, as `bandmate synth` rendered before issue #34."""
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


# --- the varied pool (`--timbres varied`) -----------------------------------------------

BASS_PROGRAMS = tuple(range(32, 40))  # GM's basses: acoustic, finger, pick, fretless, ...
PAD_PROGRAMS = tuple(range(88, 96))  # GM's synth pads
# how often a part of a pool plays a numpy patch (chords: the part named so, see draw_voice)
PATCH_SHARE = {"bass": 0.4, "pad": 0.35, "chords": 0.15}
DRUM_SET_KEYS = frozenset((35, 36, 38, 40))  # kick and snare: a part for a drum set
KIT_SHARE = 0.5  # how often drums play a recorded kit (else a SoundFont's drum kit)


def role_of_part(part: Part) -> str:
    """`drums`, `bass` (a GM bass program or the part the composer calls bass), `pad` (a
    part named pad, or on a synth-pad program) or `harmonic` (every other pitched part)."""
    if part.is_drum:
        return "drums"
    if part.program in BASS_PROGRAMS or part.name == "bass":
        return "bass"
    if part.name == "pad" or part.program in PAD_PROGRAMS:
        return "pad"
    return "harmonic"


@dataclass(frozen=True)
class FontVoice:
    """A part played on a General MIDI SoundFont with a program drawn for it."""

    font: Timbre
    program: int  # the GM program (on drum parts: the drum-bank kit) asked of the font

    def _part(self, part: Part) -> Part:
        return dataclasses.replace(part, program=self.program)

    def render(
        self, part: Part, num_samples: int, sample_rate_hz: int, channels: int
    ) -> np.ndarray:
        return render_part(self._part(part), num_samples, sample_rate_hz, channels, self.font.path)

    def record(self, part: Part) -> dict[str, Any]:
        record = {"kind": "soundfont", "source": self.font.file, "pool": role_of_part(part)}
        return {**record, **self.font.record(self._part(part)), "program_drawn": self.program}


@dataclass(frozen=True)
class KitVoice:
    """A drum part played on a recorded Hydrogen kit."""

    kit: HydrogenKit

    def render(
        self, part: Part, num_samples: int, sample_rate_hz: int, channels: int
    ) -> np.ndarray:
        return render_kit(self.kit, part, num_samples, sample_rate_hz, channels)

    def record(self, part: Part) -> dict[str, Any]:
        name = f"hydrogen:{self.kit.name}"
        return {
            "kind": "kit", "source": name, "pool": "drums", "file": name,
            "sha256": self.kit.sha256, "kit": Path(self.kit.folder).name,
            "notes_dropped": kit_notes_dropped(self.kit, part),
        }  # fmt: skip


@dataclass(frozen=True)
class PatchVoice:
    """A bass or pad part played on a numpy synthesizer patch (jittered from a named one)."""

    patch: Patch
    base: str  # the named patch it was varied from

    def render(
        self, part: Part, num_samples: int, sample_rate_hz: int, channels: int
    ) -> np.ndarray:
        return render_patch(self.patch, part, num_samples, sample_rate_hz, channels)

    def record(self, part: Part) -> dict[str, Any]:
        return {"source": f"patch:{self.base}", "pool": role_of_part(part), **self.patch.record()}


Voice = FontVoice | KitVoice | PatchVoice


@dataclass(frozen=True)
class VariedPalette:
    """The pool of `--timbres varied`: General MIDI fonts (each with the drum-bank kits it
    holds), recorded kits and synthesizer patches; none of them reserved."""

    fonts: tuple[Timbre, ...]
    drum_programs: tuple[tuple[int, ...], ...]  # per font: its drum-bank preset numbers
    kits: tuple[HydrogenKit, ...]
    patches: tuple[Patch, ...] = PATCHES


def _drum_programs(path: str) -> tuple[int, ...]:
    """The drum-bank (128) preset numbers a font holds (General MIDI's kits: 0 standard,
    8 room, 16 power, 24 electronic, 25 TR-808, 32 jazz, 40 brush, 48 orchestra, ...)."""
    font = load_font(path, 16_000, 1)
    found = []
    for program in range(128):
        try:
            font.channel_set_preset_number(DRUM_CHANNEL, program, True)
        except RuntimeError:
            continue
        if font.channel_get_preset_number(DRUM_CHANNEL) == program:
            found.append(program)
    return tuple(found) or (0,)


def varied_fonts(dirs: Sequence[str | Path] | None = None) -> list[Timbre]:
    """pretty_midi's TimGM6mb and every installed General MIDI font that is not reserved
    (one per distinct file, sorted by name), searched in `dirs` (default: where the
    reserved fonts are searched: /usr/share/sounds/sf2, sf3, /usr/share/soundfonts)."""
    by_sha: dict[str, Timbre] = {}
    default = str(default_soundfont())
    by_sha[soundfont_sha256(default)] = Timbre(
        default, Path(default).name, soundfont_sha256(default)
    )
    for folder in [Path(d) for d in dirs] if dirs is not None else search_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in (".sf2", ".sf3") or not path.is_file():
                continue
            sha = file_sha256(path)
            if is_reserved(path.name, sha) or is_reserved(Path(os.path.realpath(path)).name, sha):
                continue
            # a link (Debian's default-GM.sf2) names its file by the target's name
            name = Path(os.path.realpath(path)).name
            by_sha.setdefault(sha, Timbre(str(path), name, sha))
    return sorted(by_sha.values(), key=lambda timbre: timbre.file)


def varied_palette() -> VariedPalette:
    """The varied pool installed here (at least TimGM6mb and the patches). Kits and fonts
    that are reserved are left out (hydrogen-drumkits' `The Black Pearl` is avldrums'
    Black Pearl, a reserved test kit)."""
    fonts = varied_fonts()
    for font in fonts:
        check_soundfont(font.path)
    kits = [kit for kit in find_kits() if not is_reserved(kit.name, kit.sha256)]
    kits = [kit for kit in kits if not is_reserved(Path(kit.folder).name, kit.sha256)]
    drums = tuple(_drum_programs(font.path) for font in fonts)
    return VariedPalette(tuple(fonts), drums, tuple(kits))


def _font_voice(
    palette: VariedPalette, part: Part, role: str, rng: np.random.Generator
) -> FontVoice:
    choice = int(rng.integers(len(palette.fonts)))
    font = palette.fonts[choice]
    if role == "drums":
        programs = palette.drum_programs[choice]
        return FontVoice(font, programs[int(rng.integers(len(programs)))])
    if role == "bass":
        return FontVoice(font, BASS_PROGRAMS[int(rng.integers(len(BASS_PROGRAMS)))])
    return FontVoice(font, part.program)  # the composer's program: keys, guitars, brass, ...


def draw_voice(palette: VariedPalette, part: Part, rng: np.random.Generator) -> Voice:
    """The sound of one part, drawn from the pool by its role (`role_of_part`)."""
    role = role_of_part(part)
    if role == "harmonic" and part.name == "chords":
        role = "chords"  # block chords can be a synth's; melodies and voices stay GM's
    if role == "bass" and part.program not in BASS_PROGRAMS:
        role = "harmonic"  # a chorale's bass voice keeps its bassoon or tuba
    draw = float(rng.random())
    # kits with a piece for some of the part's keys (a shaker part needs a shaker)
    kits = [kit for kit in palette.kits if any(n.pitch in kit.keys for n in part.notes)]
    if any(n.pitch in DRUM_SET_KEYS for n in part.notes):
        kits = [kit for kit in kits if kit.is_drum_set]  # a groove plays on a drum set
    if role == "drums" and kits and draw < KIT_SHARE:
        return KitVoice(kits[int(rng.integers(len(kits)))])
    if role in PATCH_SHARE and draw < PATCH_SHARE[role]:
        named = [patch for patch in palette.patches if patch.role == role]
        base = named[int(rng.integers(len(named)))]
        return PatchVoice(jitter_patch(base, rng), base.name)
    return _font_voice(palette, part, role, rng)


def draw_voices(
    palette: VariedPalette, seed: int, index: int, parts: Sequence[Part]
) -> list[Voice]:
    """The sounds of song `index`'s parts, each from its own generator [seed, index,
    TIMBRE_STREAM, position]: a part's sound does not depend on the others'."""
    return [
        draw_voice(palette, part, np.random.default_rng([seed, index, TIMBRE_STREAM, position]))
        for position, part in enumerate(parts)
    ]
