"""The dataset readers by name, as `bandmate pairs --dataset NAME` knows them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bandmate.data.folder import scan_folder
from bandmate.data.medleydb import scan_medleydb
from bandmate.data.moisesdb import scan_moisesdb
from bandmate.data.musdb import scan_musdb
from bandmate.data.slakh import scan_slakh
from bandmate.data.songs import Skipped, Song
from bandmate.errors import BandmateError

Scanner = Callable[[str | Path], tuple[list[Song], list[Skipped]]]

READERS: dict[str, Scanner] = {
    "medleydb": scan_medleydb,
    "slakh": scan_slakh,
    "musdb": scan_musdb,
    "moisesdb": scan_moisesdb,
    "folder": scan_folder,
}


def scan_dataset(name: str, root: str | Path) -> tuple[list[Song], list[Skipped]]:
    """Songs of dataset `name` under `root`, and the songs skipped with their reasons."""
    if name not in READERS:
        raise BandmateError(f"unknown dataset {name!r}; known: {', '.join(READERS)}")
    if not Path(root).exists():
        raise BandmateError(f"{root}: dataset root not found")
    return READERS[name](root)
