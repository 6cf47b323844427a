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


STYLES: tuple[Style, ...] = (
    Style(
        "rock",
        ROCK,
        (90, 160),
        {"4/4": 8, "12/8": 1, "6/8": 1},
        ("rock", "halftime", "punk"),
        (0.0, 0.0),
        ("major", "minor", "mixolydian"),
        ELECTRIC_BASSES[:2],
        ("eighths", "root", "root_fifth"),
        (29, 30, 27, 25, 18),
        ("strum", "power", "sustain"),
        (*VOICE_PROGRAMS, 30, 81, 65),
        0.05,
    ),
    Style(
        "pop",
        POP,
        (80, 130),
        {"4/4": 9, "3/4": 1},
        ("pop", "four_floor", "rock"),
        (0.0, 0.06),
        ("major", "minor"),
        ELECTRIC_BASSES,
        ("root", "octaves", "syncopated"),
        (0, 1, 4, 5, 89, 90, 24, 25),
        ("sustain", "pulse", "arpeggio", "strum"),
        (*VOICE_PROGRAMS, 52, 53, 80, 73, 11),
        0.2,
    ),
    Style(
        "funk",
        POP,
        (88, 118),
        {"4/4": 1},
        ("funk", "hiphop"),
        (0.0, 0.1),
        ("dorian", "minor", "mixolydian"),
        (36, 37, 33),
        ("funk", "syncopated", "octaves"),
        (27, 4, 5, 16, 17),
        ("skank", "pulse", "stabs"),
        (*VOICE_PROGRAMS, 61, 66, 56, 81),
        0.6,
        (0, 8, 24, 25),
    ),
    Style(
        "jazz",
        JAZZ,
        (96, 180),
        {"4/4": 6, "3/4": 2, "5/4": 1},
        ("swing",),
        (0.1, 0.17),
        ("major", "minor", "dorian"),
        (ACOUSTIC_BASS, 33),
        ("walking",),
        (0, 4, 11, 26),
        ("comp", "sustain"),
        (*VOICE_PROGRAMS, 65, 66, 56, 73, 11),
        0.9,
        (32, 40, 0),
    ),
    Style(
        "ballad",
        SINGER,
        (60, 84),
        {"4/4": 5, "3/4": 2, "6/8": 2, "12/8": 2},
        ("ballad",),
        (0.0, 0.0),
        ("major", "minor"),
        (*ELECTRIC_BASSES[:3], ACOUSTIC_BASS),
        ("whole", "root", "root_fifth"),
        (0, 1, 4, 48, 49, 89, 24, 46),
        ("arpeggio", "sustain", "pulse"),
        (*VOICE_PROGRAMS, 52, 53, 73, 40, 68, 71),
        0.3,
        (0, 8, 40),
    ),
    Style(
        "folk",
        WORLD,
        (90, 170),
        {"3/4": 3, "6/8": 3, "2/4": 2, "4/4": 2},
        ("waltz", "pop", "generic"),
        (0.0, 0.08),
        ("major", "minor", "dorian", "mixolydian"),
        (ACOUSTIC_BASS, 33, 35),
        ("root_fifth", "root"),
        (24, 25, 21, 22, 105, 46),
        ("strum", "arpeggio", "pulse"),
        (*VOICE_PROGRAMS, 40, 73, 21, 22, 74, 71, 75),
        0.05,
        (0, 8, 40),
    ),
    Style(
        "electronic",
        ELECTRONIC,
        (110, 140),
        {"4/4": 1},
        ("four_floor", "hiphop"),
        (0.0, 0.05),
        ("minor", "dorian", "major"),
        (*SYNTH_BASSES, 33, 34),
        ("octaves", "eighths", "syncopated"),
        (81, 88, 89, 90, 91, 94, 4),
        ("sustain", "pulse", "stabs", "arpeggio"),
        (*VOICE_PROGRAMS, 80, 81, 84, 87),
        0.3,
        (24, 25, 16),
    ),
    Style(
        "reggae",
        WORLD,
        (66, 92),
        {"4/4": 1},
        ("one_drop",),
        (0.0, 0.1),
        ("major", "minor"),
        (33, 34, 35),
        ("syncopated", "root_fifth"),
        (16, 17, 27, 4),
        ("skank",),
        (*VOICE_PROGRAMS, 56, 65, 22),
        0.1,
        (0, 8),
    ),
    Style(
        "bossa",
        WORLD,
        (110, 145),
        {"4/4": 1, "2/4": 1},
        ("bossa",),
        (0.0, 0.0),
        ("major", "minor", "dorian"),
        (ACOUSTIC_BASS, 33),
        ("root_fifth", "syncopated"),
        (24, 0, 11, 4),
        ("arpeggio", "comp"),
        (*VOICE_PROGRAMS, 73, 65, 71, 11),
        0.8,
        (0, 40, 32),
    ),
    Style(
        "odd",
        ROCK,
        (100, 160),
        {"5/4": 2, "7/8": 2, "6/8": 1},
        ("generic",),
        (0.0, 0.0),
        ("minor", "dorian", "major"),
        ELECTRIC_BASSES,
        ("eighths", "root", "root_fifth"),
        (29, 27, 4, 16, 89),
        ("pulse", "sustain", "strum"),
        (*VOICE_PROGRAMS, 81, 30, 65, 40),
        0.2,
    ),
)
STYLE_BY_NAME = {style.name: style for style in STYLES}
