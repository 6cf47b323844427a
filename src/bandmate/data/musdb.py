"""MUSDB18-HQ reader (the wav release): ROOT/{train,test}/<Artist - Title>/{stem}.wav.

Four fixed stems, mapped to MedleyDB labels so presets mean the same as elsewhere:
drums -> `drum set`, bass -> `electric bass`, vocals -> `vocalists`, other -> `other`.
"""

from __future__ import annotations

from pathlib import Path

from bandmate.data.files import files_named
from bandmate.data.songs import Skipped, Song, Stem

STEM_LABELS = {
    "drums": "drum set",
    "bass": "electric bass",
    "vocals": "vocalists",
    "other": "other",
}
MIXTURE = "mixture.wav"


def scan_musdb(root: str | Path) -> tuple[list[Song], list[Skipped]]:
    """Every track folder holding `mixture.wav` or any of the four stems."""
    songs: list[Song] = []
    skipped: list[Skipped] = []
    names = (MIXTURE, *(f"{s}.wav" for s in STEM_LABELS))
    folders = sorted({p.parent for p in files_named(root, names)})
    for folder in folders:
        missing = [f"{s}.wav" for s in STEM_LABELS if not (folder / f"{s}.wav").is_file()]
        if missing:
            skipped.append(Skipped(folder.name, f"{folder}: missing {', '.join(missing)}"))
            continue
        stems = tuple(
            Stem(f"{s}.wav", (label,), folder / f"{s}.wav") for s, label in STEM_LABELS.items()
        )
        mix = folder / MIXTURE if (folder / MIXTURE).is_file() else None
        songs.append(Song(folder.name, "musdb", stems, mix, extra={"subset": folder.parent.name}))
    return songs, skipped
