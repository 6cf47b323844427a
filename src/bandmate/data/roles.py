"""Instrument roles: every label of every dataset maps to drums, bass, vocals or other.

This file is the one table of that mapping. MedleyDB labels are the reference (its
taxonomy, ../shared/fixtures/medleydb-taxonomy.yaml); other datasets first map their
labels onto MedleyDB labels (tables below), then take the role from here.

Two MedleyDB labels mean "everything at once": `Main System` (a room or stereo-bus
recording of the whole band) and `Unlabeled`. They get the role `unknown` and are never
used as input or target, because they carry the input instrument's bleed.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    DRUMS = "drums"
    BASS = "bass"
    VOCALS = "vocals"
    OTHER = "other"
    UNKNOWN = "unknown"


# MedleyDB labels with a role other than `other`. Percussion that is not a drum kit
# (tabla, congas, shakers, timpani ...) stays `other`: it is not what a drum-kit input means.
ROLE_OF_LABEL: dict[str, Role] = {
    # drums: the kit and its parts, and drum machines
    "drum set": Role.DRUMS,
    "drum machine": Role.DRUMS,
    "kick drum": Role.DRUMS,
    "bass drum": Role.DRUMS,
    "snare drum": Role.DRUMS,
    "toms": Role.DRUMS,
    "high hat": Role.DRUMS,
    "cymbal": Role.DRUMS,
    # bass
    "electric bass": Role.BASS,
    "double bass": Role.BASS,
    # vocals: every voice in the taxonomy's `voices` family
    "male singer": Role.VOCALS,
    "female singer": Role.VOCALS,
    "male speaker": Role.VOCALS,
    "female speaker": Role.VOCALS,
    "male rapper": Role.VOCALS,
    "female rapper": Role.VOCALS,
    "beatboxing": Role.VOCALS,
    "vocalists": Role.VOCALS,
    "choir": Role.VOCALS,
    "crowd": Role.VOCALS,
    "male screamer": Role.VOCALS,
    "female screamer": Role.VOCALS,
    # a whole-band recording or an unknown source: never input, never target
    "Main System": Role.UNKNOWN,
    "Unlabeled": Role.UNKNOWN,
}


def role_of(label: str) -> Role:
    """The role of a MedleyDB-taxonomy label (or of a role name itself); default `other`."""
    if label in ROLE_OF_LABEL:
        return ROLE_OF_LABEL[label]
    try:
        return Role(label)
    except ValueError:
        return Role.OTHER


# General MIDI program (0-based) -> MedleyDB label, by GM family and a few exact programs.
# Used for Slakh2100 and for `bandmate synth`. Drums (channel 10 / Slakh program 128) are
# `drum set`.
GM_FAMILY_LABELS: tuple[str, ...] = (
    "piano",  # 0-7 piano
    "vibraphone",  # 8-15 chromatic percussion
    "electronic organ",  # 16-23 organ
    "acoustic guitar",  # 24-31 guitar
    "electric bass",  # 32-39 bass
    "violin",  # 40-47 strings
    "string section",  # 48-55 ensemble
    "trumpet",  # 56-63 brass
    "tenor saxophone",  # 64-71 reed
    "flute",  # 72-79 pipe
    "synthesizer",  # 80-87 synth lead
    "synthesizer",  # 88-95 synth pad
    "fx/processed sound",  # 96-103 synth effects
    "banjo",  # 104-111 ethnic
    "auxiliary percussion",  # 112-119 percussive
    "fx/processed sound",  # 120-127 sound effects
)
GM_PROGRAM_LABELS: dict[int, str] = {
    4: "electric piano",
    5: "electric piano",
    6: "harpsichord",
    7: "electric piano",
    9: "glockenspiel",
    12: "marimba",
    13: "xylophone",
    14: "chimes",
    19: "pipe organ",
    21: "accordion",
    22: "harmonica",
    23: "bandoneon",
    26: "clean electric guitar",
    27: "clean electric guitar",
    28: "clean electric guitar",
    29: "distorted electric guitar",
    30: "distorted electric guitar",
    31: "distorted electric guitar",
    32: "double bass",
    38: "synthesizer",
    39: "synthesizer",
    41: "viola",
    42: "cello",
    43: "double bass",
    46: "harp",
    47: "timpani",
    52: "choir",
    53: "vocalists",
    57: "trombone",
    58: "tuba",
    60: "french horn",
    61: "brass section",
    64: "soprano saxophone",
    65: "alto saxophone",
    66: "tenor saxophone",
    67: "baritone saxophone",
    68: "oboe",
    69: "english horn",
    70: "bassoon",
    71: "clarinet",
    72: "piccolo",
    74: "recorder",
    75: "panpipes",
    104: "sitar",
    105: "banjo",
    109: "bagpipe",
    110: "violin",  # Fiddle
}
DRUM_PROGRAM = 128  # Slakh's program number for drums


def gm_label(program: int, is_drum: bool = False) -> str:
    """MedleyDB label of a General MIDI program (0-based); drums are `drum set`."""
    if is_drum or program == DRUM_PROGRAM:
        return "drum set"
    if not 0 <= program < 128:
        raise ValueError(f"GM program out of range: {program}")
    return GM_PROGRAM_LABELS.get(program, GM_FAMILY_LABELS[program // 8])
