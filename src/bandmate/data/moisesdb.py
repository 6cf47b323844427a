"""MoisesDB reader: ROOT/[provider/]<track_id>/data.json + one folder per stem.

`data.json` lists `stems`, each with a `stemName` (its folder) and `tracks`, each track a
file `<stemName>/<id>.<extension>` with a `trackType`. A MoisesDB stem is the sum of its
tracks; it becomes one `Stem` whose label is the MedleyDB label of its stem name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bandmate.data.files import files_named
from bandmate.data.songs import Skipped, Song, Stem
from bandmate.errors import DataError

# MoisesDB stem name -> MedleyDB label (its taxonomy.json's top level).
STEM_LABELS = {
    "vocals": "vocalists",
    "bass": "electric bass",
    "drums": "drum set",
    "guitar": "clean electric guitar",
    "piano": "piano",
    "bowed_strings": "string section",
    "wind": "brass section",
    "percussion": "auxiliary percussion",
    "other_plucked": "banjo",
    "other_keys": "synthesizer",
    "other": "fx/processed sound",
}
# Track types that say more than their stem's name does.
TRACK_LABELS = {
    "contrabass/double bass (bass of instrings)": "double bass",
    "acoustic guitar": "acoustic guitar",
    "distorted electric guitar": "distorted electric guitar",
    "drum machine": "drum machine",
    "lead male singer": "male singer",
    "lead female singer": "female singer",
    "human choir": "choir",
}


def _stem(folder: Path, info: dict[str, Any], data_path: Path) -> Stem:
    name = str(info.get("stemName", "")).strip()
    tracks = info.get("tracks") or []
    if not name or not tracks:
        raise DataError(data_path, f"stem {name or '?'} has no name or no tracks")
    files = tuple(folder / name / f"{t['id']}.{t.get('extension', 'wav')}" for t in tracks)
    types = {str(t.get("trackType", "")).strip() for t in tracks}
    specific = {TRACK_LABELS[t] for t in types if t in TRACK_LABELS}
    label = specific.pop() if len(specific) == 1 and len(types) == 1 else None
    stem_label = label or STEM_LABELS.get(name, name.replace("_", " "))
    return Stem(name, (stem_label,), files[0], extra_paths=files[1:])


def read_track(folder: Path) -> Song:
    """One MoisesDB track folder as a `Song`."""
    path = folder / "data.json"
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(path, f"malformed JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("stems"), list):
        raise DataError(path, "data.json has no `stems` list")
    stems = tuple(_stem(folder, info, path) for info in data["stems"])
    extra = {k: str(data[k]) for k in ("artist", "song", "genre") if k in data}
    return Song(folder.name, "moisesdb", stems, None, extra=extra)


def scan_moisesdb(root: str | Path) -> tuple[list[Song], list[Skipped]]:
    """All tracks under `root` (with or without a provider folder level)."""
    songs: list[Song] = []
    skipped: list[Skipped] = []
    for path in files_named(root, ["data.json"]):
        try:
            songs.append(read_track(path.parent))
        except DataError as error:
            skipped.append(Skipped(path.parent.name, str(error)))
    return songs, skipped
