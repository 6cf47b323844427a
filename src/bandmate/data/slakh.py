"""Slakh2100 reader (also BabySlakh and the flac "redux" release).

Layout: ROOT/[train|validation|test|omitted/]TrackNNNNN/{metadata.yaml, mix.flac|wav,
stems/Sxx.flac|wav, MIDI/Sxx.mid}. `metadata.yaml` lists every source with its General
MIDI `program_num` (128 = drums, also `is_drum`); sources with `audio_rendered: false`
have no audio and are kept as unrendered stems (never input or target). `audio_dir` is
relative to the track folder in most releases, to its parent in some (`TrackN/stems`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bandmate.data.files import files_named
from bandmate.data.roles import gm_label
from bandmate.data.songs import Skipped, Song, Stem
from bandmate.errors import DataError

AUDIO_SUFFIXES = (".flac", ".wav")


def _audio_dir(track: Path, meta: dict[str, Any]) -> Path:
    name = str(meta.get("audio_dir") or "stems")
    for candidate in (track / name, track.parent / name, track / "stems"):
        if candidate.is_dir():
            return candidate
    return track / Path(name).name


def _stem_file(folder: Path, stem_id: str) -> Path:
    for suffix in AUDIO_SUFFIXES:
        if (folder / f"{stem_id}{suffix}").is_file():
            return folder / f"{stem_id}{suffix}"
    return folder / f"{stem_id}.flac"


def read_track(track: Path) -> Song:
    """One Slakh track folder as a `Song`."""
    path = track / "metadata.yaml"
    try:
        meta = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        raise DataError(path, "malformed YAML") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("stems"), dict):
        raise DataError(path, "metadata has no `stems` mapping")
    folder = _audio_dir(track, meta)
    stems = []
    for stem_id, info in sorted(meta["stems"].items()):
        try:
            label = gm_label(int(info["program_num"]), bool(info.get("is_drum", False)))
        except (KeyError, TypeError, ValueError):
            raise DataError(path, f"stem {stem_id} has no valid `program_num`") from None
        rendered = bool(info.get("audio_rendered", True))
        file = _stem_file(folder, stem_id)
        stems.append(Stem(file.name, (label,), file, rendered=rendered))
    mix = next((track / f"mix{s}" for s in AUDIO_SUFFIXES if (track / f"mix{s}").is_file()), None)
    return Song(track.name, "slakh", tuple(stems), mix, extra={"uuid": str(meta.get("UUID", ""))})


def scan_slakh(root: str | Path) -> tuple[list[Song], list[Skipped]]:
    """All Slakh tracks under `root` (any depth: split folders or a flat BabySlakh)."""
    songs: list[Song] = []
    skipped: list[Skipped] = []
    for meta in files_named(root, ["metadata.yaml"]):
        try:
            songs.append(read_track(meta.parent))
        except DataError as error:
            skipped.append(Skipped(meta.parent.name, str(error)))
    return songs, skipped
