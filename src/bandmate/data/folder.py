"""A plain folder of stems: ROOT/<song>/<stem>.<wav|flac|ogg|mp3>, one file per stem.

The instrument comes from a sidecar `stems.yaml` in the song folder when present
(`file name: label` or `file name: [label, ...]`), otherwise from the file name:
a MedleyDB taxonomy label (`electric bass.wav`, `drum_set.wav`) or a common name
(`drums`, `bass`, `vocals`, `guitar`, ...; trailing numbers ignored: `guitar_2.wav`).
Files named `mix`/`mixture` are the song's mix, not a stem.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bandmate.data.songs import Skipped, Song, Stem
from bandmate.errors import DataError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
SIDECAR = "stems.yaml"
MIX_NAMES = ("mix", "mixture")
COMMON_NAMES = {
    "drums": "drum set",
    "drum": "drum set",
    "kit": "drum set",
    "drumkit": "drum set",
    "bass": "electric bass",
    "vocals": "vocalists",
    "vocal": "vocalists",
    "vox": "vocalists",
    "voice": "vocalists",
    "lead vocals": "vocalists",
    "guitar": "clean electric guitar",
    "keys": "piano",
    "synth": "synthesizer",
    "strings": "string section",
    "other": "other",
}


def label_from_name(file: Path) -> str:
    """`Guitar_2.wav` -> `clean electric guitar`; `electric_bass.wav` -> `electric bass`."""
    name = re.sub(r"[\s_\-]*\d+$", "", file.stem.lower().replace("_", " ").replace("-", " "))
    return COMMON_NAMES.get(name.strip(), name.strip())


def _sidecar(folder: Path) -> dict[str, tuple[str, ...]]:
    path = folder / SIDECAR
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        raise DataError(path, "malformed YAML") from None
    if not isinstance(data, dict):
        raise DataError(path, "expected a mapping of file name -> instrument label(s)")
    return {
        str(k): tuple(map(str, v)) if isinstance(v, list) else (str(v),) for k, v in data.items()
    }


def read_song(folder: Path) -> Song:
    """One song folder as a `Song`."""
    labels = _sidecar(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    mix = next((p for p in files if p.stem.lower() in MIX_NAMES), None)
    stems = tuple(
        Stem(p.name, labels.get(p.name, (label_from_name(p),)), p) for p in files if p != mix
    )
    unknown = set(labels) - {p.name for p in files}
    if unknown:
        raise DataError(folder / SIDECAR, f"names files that do not exist: {sorted(unknown)}")
    return Song(folder.name, "folder", stems, mix)


def scan_folder(root: str | Path) -> tuple[list[Song], list[Skipped]]:
    """Every sub-folder of `root` holding audio files is one song."""
    songs: list[Song] = []
    skipped: list[Skipped] = []
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        try:
            song = read_song(folder)
        except DataError as error:
            skipped.append(Skipped(folder.name, str(error)))
            continue
        if song.stems:
            songs.append(song)
        else:
            skipped.append(Skipped(folder.name, f"{folder}: no audio files"))
    return songs, skipped
