"""Band styles: the tempo ranges, meters, grooves and instrument palettes songs draw from.

Programs are General MIDI, 0-based. Labels come from `bandmate.data.roles.gm_label`
except for voice-like leads, which are labelled as singers so that the `vocals` presets
find them (see `lead_label`).
"""

from __future__ import annotations

from dataclasses import dataclass

# GM programs by part. Voice-like patches: 52 Choir Aahs, 53 Voice Oohs, 54 Synth Voice,
# 85 Lead 6 (voice).
VOICE_PROGRAMS = (52, 53, 54, 85)
ELECTRIC_BASSES = (33, 34, 35, 36, 37)  # finger, pick, fretless, slap 1, slap 2
ACOUSTIC_BASS = 32
SYNTH_BASSES = (38, 39)

# MedleyDB genres (the `genre` field of real metadata).
ROCK, POP, JAZZ, SINGER = "Rock", "Pop", "Jazz", "Singer/Songwriter"
ELECTRONIC, WORLD = "Electronic/Fusion", "World/Folk"


@dataclass(frozen=True)
class Style:
    """What a procedural song of one style may be made of."""

    name: str
    genre: str
    tempo_bpm: tuple[int, int]
    meters: dict[str, float]  # meter name -> weight
    grooves: tuple[str, ...]  # drum grooves (drums.py); meters without one use `generic`
    swing: tuple[float, float]  # range of the swing amount (0 = straight)
    modes: tuple[str, ...]
    bass_programs: tuple[int, ...]
    bass_patterns: tuple[str, ...]  # bass.py
    chord_programs: tuple[int, ...]
    chord_rhythms: tuple[str, ...]  # harmony.py
    lead_programs: tuple[int, ...]
    sevenths: float  # probability of seventh chords
    kits: tuple[int, ...] = (0, 8, 16)  # GM drum kits: standard, room, power
    progressions: tuple[tuple[int, ...], ...] = ()  # scale degrees; () = the mode's own
    forms: tuple[tuple[tuple[str, int], ...], ...] = ()  # (section, bars); () = plan.FORMS


STYLES: tuple[Style, ...] = (
    Style(
        name="rock",
        genre=ROCK,
        tempo_bpm=(90, 160),
        meters={"4/4": 8, "12/8": 1, "6/8": 1},
        grooves=("rock", "halftime", "punk"),
        swing=(0.0, 0.0),
        modes=("major", "minor", "mixolydian"),
        bass_programs=(33, 34),
        bass_patterns=("eighths", "root", "root_fifth"),
        chord_programs=(29, 30, 27, 25, 18),
        chord_rhythms=("strum", "power", "sustain"),
        lead_programs=(*VOICE_PROGRAMS, 30, 81, 65),
        sevenths=0.05,
    ),
    Style(
        name="pop",
        genre=POP,
        tempo_bpm=(80, 130),
        meters={"4/4": 9, "3/4": 1},
        grooves=("pop", "four_floor", "rock"),
        swing=(0.0, 0.06),
        modes=("major", "minor"),
        bass_programs=(33, 34, 35, 36, 37),
        bass_patterns=("root", "octaves", "syncopated"),
        chord_programs=(0, 1, 4, 5, 89, 90, 24, 25),
        chord_rhythms=("sustain", "pulse", "arpeggio", "strum"),
        lead_programs=(*VOICE_PROGRAMS, 52, 53, 80, 73, 11),
        sevenths=0.2,
    ),
    Style(
        name="funk",
        genre=POP,
        tempo_bpm=(88, 118),
        meters={"4/4": 1},
        grooves=("funk", "hiphop"),
        swing=(0.0, 0.1),
        modes=("dorian", "minor", "mixolydian"),
        bass_programs=(36, 37, 33),
        bass_patterns=("funk", "syncopated", "octaves"),
        chord_programs=(27, 4, 5, 16, 17),
        chord_rhythms=("skank", "pulse", "stabs"),
        lead_programs=(*VOICE_PROGRAMS, 61, 66, 56, 81),
        sevenths=0.6,
        kits=(0, 8, 24, 25),
    ),
    Style(
        name="jazz",
        genre=JAZZ,
        tempo_bpm=(96, 180),
        meters={"4/4": 6, "3/4": 2, "5/4": 1},
        grooves=("swing",),
        swing=(0.1, 0.17),
        modes=("major", "minor", "dorian"),
        bass_programs=(32, 33),
        bass_patterns=("walking",),
        chord_programs=(0, 4, 11, 26),
        chord_rhythms=("comp", "sustain"),
        lead_programs=(*VOICE_PROGRAMS, 65, 66, 56, 73, 11),
        sevenths=0.9,
        kits=(32, 40, 0),
    ),
    Style(
        name="ballad",
        genre=SINGER,
        tempo_bpm=(60, 84),
        meters={"4/4": 5, "3/4": 2, "6/8": 2, "12/8": 2},
        grooves=("ballad",),
        swing=(0.0, 0.0),
        modes=("major", "minor"),
        bass_programs=(33, 34, 35, 32),
        bass_patterns=("whole", "root", "root_fifth"),
        chord_programs=(0, 1, 4, 48, 49, 89, 24, 46),
        chord_rhythms=("arpeggio", "sustain", "pulse"),
        lead_programs=(*VOICE_PROGRAMS, 52, 53, 73, 40, 68, 71),
        sevenths=0.3,
        kits=(0, 8, 40),
    ),
    Style(
        name="folk",
        genre=WORLD,
        tempo_bpm=(90, 170),
        meters={"3/4": 3, "6/8": 3, "2/4": 2, "4/4": 2},
        grooves=("waltz", "pop", "generic"),
        swing=(0.0, 0.08),
        modes=("major", "minor", "dorian", "mixolydian"),
        bass_programs=(32, 33, 35),
        bass_patterns=("root_fifth", "root"),
        chord_programs=(24, 25, 21, 22, 105, 46),
        chord_rhythms=("strum", "arpeggio", "pulse"),
        lead_programs=(*VOICE_PROGRAMS, 40, 73, 21, 22, 74, 71, 75),
        sevenths=0.05,
        kits=(0, 8, 40),
    ),
    Style(
        name="electronic",
        genre=ELECTRONIC,
        tempo_bpm=(110, 140),
        meters={"4/4": 1},
        grooves=("four_floor", "hiphop"),
        swing=(0.0, 0.05),
        modes=("minor", "dorian", "major"),
        bass_programs=(38, 39, 33, 34),
        bass_patterns=("octaves", "eighths", "syncopated"),
        chord_programs=(81, 88, 89, 90, 91, 94, 4),
        chord_rhythms=("sustain", "pulse", "stabs", "arpeggio"),
        lead_programs=(*VOICE_PROGRAMS, 80, 81, 84, 87),
        sevenths=0.3,
        kits=(24, 25, 16),
    ),
    Style(
        name="reggae",
        genre=WORLD,
        tempo_bpm=(66, 92),
        meters={"4/4": 1},
        grooves=("one_drop",),
        swing=(0.0, 0.1),
        modes=("major", "minor"),
        bass_programs=(33, 34, 35),
        bass_patterns=("syncopated", "root_fifth"),
        chord_programs=(16, 17, 27, 4),
        chord_rhythms=("skank",),
        lead_programs=(*VOICE_PROGRAMS, 56, 65, 22),
        sevenths=0.1,
        kits=(0, 8),
    ),
    Style(
        name="bossa",
        genre=WORLD,
        tempo_bpm=(110, 145),
        meters={"4/4": 1, "2/4": 1},
        grooves=("bossa",),
        swing=(0.0, 0.0),
        modes=("major", "minor", "dorian"),
        bass_programs=(32, 33),
        bass_patterns=("root_fifth", "syncopated"),
        chord_programs=(24, 0, 11, 4),
        chord_rhythms=("arpeggio", "comp"),
        lead_programs=(*VOICE_PROGRAMS, 73, 65, 71, 11),
        sevenths=0.8,
        kits=(0, 40, 32),
    ),
    Style(
        name="odd",
        genre=ROCK,
        tempo_bpm=(100, 160),
        meters={"5/4": 2, "7/8": 2, "6/8": 1},
        grooves=("generic",),
        swing=(0.0, 0.0),
        modes=("minor", "dorian", "major"),
        bass_programs=(33, 34, 35, 36, 37),
        bass_patterns=("eighths", "root", "root_fifth"),
        chord_programs=(29, 27, 4, 16, 89),
        chord_rhythms=("pulse", "sustain", "strum"),
        lead_programs=(*VOICE_PROGRAMS, 81, 30, 65, 40),
        sevenths=0.2,
    ),
    Style(
        name="blues",
        genre=JAZZ,
        tempo_bpm=(66, 128),
        meters={"4/4": 3, "12/8": 2},
        grooves=("shuffle",),
        swing=(0.12, 0.17),
        modes=("major", "mixolydian"),
        bass_programs=(33, 34, 32),
        bass_patterns=("walking", "root_fifth"),
        chord_programs=(0, 27, 16, 4, 26),
        chord_rhythms=("comp", "pulse", "strum"),
        lead_programs=(*VOICE_PROGRAMS, 22, 27, 29, 65, 66),
        sevenths=0.9,
        kits=(0, 8, 32),
        progressions=((0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4), (0, 3, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4)),
        forms=((("a", 12), ("a", 12), ("b", 12)), (("intro", 2), ("a", 12), ("b", 12))),
    ),
    Style(
        name="metal",
        genre=ROCK,
        tempo_bpm=(130, 180),
        meters={"4/4": 6, "6/8": 1},
        grooves=("metal", "punk"),
        swing=(0.0, 0.0),
        modes=("minor",),
        bass_programs=(33, 34),
        bass_patterns=("eighths", "root"),
        chord_programs=(29, 30),
        chord_rhythms=("power",),
        lead_programs=(*VOICE_PROGRAMS, 30, 29, 81),
        sevenths=0.0,
        kits=(16, 0, 8),
        progressions=((0, 5, 6, 0), (0, 1, 0, 6), (0, 3, 5, 4)),
    ),
)
STYLE_BY_NAME = {style.name: style for style in STYLES}
