"""Timbres reserved for testing: SoundFonts that no training data may be rendered with.

The unseen-timbre test set (`bandmate synth --timbres reserved`) is rendered with them, and
`bandmate tokenize` and `bandmate train` refuse any dataset whose synth manifest names one,
so a model is never tested on timbres it was trained on. Reserved are the FluidR3 family
(FluidR3_GM, its GS supplement, FluidR3Mono) with MuseScore_General, which grew out of it,
and the recorded drum kits of avldrums.lv2 (Black Pearl, Red Zeppelin).

A file counts as reserved by its name (`NAME_PATTERNS`, which also catch other versions of
these fonts) or by its sha256 (`KNOWN_FILES`, the files Debian ships, so that a renamed copy
is caught too). This module is the one place that lists them: synth, tokens and train
import it (data/ is the lowest layer, so none of them depends upward).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bandmate.errors import BandmateError

# What set-up installs (Makefile, .ci/run); avldrums.lv2 pulls avldrums.lv2-soundfont,
# the package that holds the kits' .sf2 files.
DEBIAN_PACKAGES = ("fluid-soundfont-gm", "musescore-general-soundfont", "avldrums.lv2")
INSTALL_HINT = f"apt-get install {' '.join(DEBIAN_PACKAGES)}"
SEARCH_DIRS = ("/usr/share/sounds/sf2", "/usr/share/sounds/sf3", "/usr/share/soundfonts")
# BANDMATE_SOUNDFONTS=DIR[:DIR...] searches these folders instead of SEARCH_DIRS.
SEARCH_ENV = "BANDMATE_SOUNDFONTS"
SUFFIXES = (".sf2", ".sf3")


@dataclass(frozen=True)
class ReservedFile:
    """A reserved SoundFont as a Debian package installs it."""

    name: str  # file name under /usr/share/sounds/
    sha256: str
    size: int  # bytes; a file of another size need not be hashed to know it is not this one
    package: str  # the Debian package that ships it
    kind: str  # melodic (a General MIDI font) | drums (one kit) | extra


KNOWN_FILES: tuple[ReservedFile, ...] = (
    ReservedFile(
        "FluidR3_GM.sf2",
        "74594e8f4250680adf590507a306655a299935343583256f3b722c48a1bc1cb0",
        148_398_306,
        "fluid-soundfont-gm",
        "melodic",
    ),
    # Only FluidR3's GS variation presets (sound effects in banks 1-8), no GM set.
    ReservedFile(
        "FluidR3_GS.sf2",
        "aadb5597fb95ea5f7d336999e3c68ad32aa6357027aed7d4d9ff0ac75f2988e6",
        3_201_926,
        "fluid-soundfont-gs",
        "extra",
    ),
    ReservedFile(
        "FluidR3Mono_GM.sf3",
        "cda013d8c370a48ae8dad271e761078d2e77455488dabdedbfbe5fc76a38c682",
        23_614_353,
        "fluidr3mono-gm-soundfont",
        "melodic",
    ),
    ReservedFile(
        "MuseScore_General_Full.sf3",
        "f9a37b36655f23e167c66ec91bef6097c8e99be29286219a54062919eb41aeae",
        85_967_114,
        "musescore-general-soundfont",
        "melodic",
    ),
    ReservedFile(
        "MuseScore_General_Lite.sf3",
        "916aaca6b0eb9f9083eb42399614acb2ff4ec72ce28dffff1814592a9696b479",
        39_978_561,
        "musescore-general-soundfont-small",
        "melodic",
    ),
    ReservedFile(
        "Black_Pearl_4_LV2.sf2",
        "3bc27deb1b9d6a919c7cfc4ba5fc5c077ac7899fc21becbbb234749ffc523d13",
        19_448_282,
        "avldrums.lv2-soundfont",
        "drums",
    ),
    ReservedFile(
        "Red_Zeppelin_4_LV2.sf2",
        "e8710b899ece8f83b109d0e2f6a89b007b864c8c088ca3ad3cd6e47bd8e629cc",
        26_571_984,
        "avldrums.lv2-soundfont",
        "drums",
    ),
)

# Substrings of a file name reduced to lower-case letters and digits (`_normal`), first
# match wins: `FluidR3 GM (v3).sf2`, `fluid-r3-mono.sf3` and `MuseScore_General.sf2`
# (musescore-general-soundfont-lossless) are reserved like the files above.
NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    ("fluidr3gs", "extra"),
    ("fluidr3", "melodic"),
    ("musescoregeneral", "melodic"),
    ("blackpearl", "drums"),
    ("redzeppelin", "drums"),
    ("avldrums", "drums"),
)


@dataclass(frozen=True)
class FoundFont:
    """A reserved SoundFont installed on this machine."""

    path: Path
    sha256: str
    kind: str  # melodic | drums | extra
    package: str  # the Debian package it comes from ('' for an unknown version)

    @property
    def name(self) -> str:
        return self.path.name


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", Path(name).name.lower())


def _known_by_sha() -> dict[str, ReservedFile]:
    return {known.sha256: known for known in KNOWN_FILES}


def _kind_by_name(name: str) -> str | None:
    normal = _normal(name)
    return next((kind for pattern, kind in NAME_PATTERNS if pattern in normal), None)


def is_reserved(name: str, sha256: str | None) -> bool:
    """Whether a SoundFont of this file name (or path) and checksum is reserved for testing.

    Args:
        name: the file name as a manifest records it (a path works too).
        sha256: its hex checksum, or None where none was recorded.
    """
    return reserved_reason(name, sha256) is not None


def reserved_reason(name: str, sha256: str | None) -> str | None:
    """Why a SoundFont is reserved (`FluidR3_GM.sf2`, `a renamed copy of ...`), or None."""
    known = _known_by_sha().get((sha256 or "").lower())
    if known is not None:
        if Path(name).name == known.name:
            return known.name
        return f"{Path(name).name} (a renamed copy of {known.name})"
    return Path(name).name if _kind_by_name(name) is not None else None


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """Checksum of a file, cached on (path, size, mtime): the fonts are up to 150 MB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file (symbolic links followed)."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    return _sha256(real, stat.st_size, stat.st_mtime_ns)


def search_dirs() -> list[Path]:
    """Where `find_reserved_soundfonts` looks: $BANDMATE_SOUNDFONTS, else SEARCH_DIRS."""
    override = os.environ.get(SEARCH_ENV, "")
    dirs = [d for d in override.split(os.pathsep) if d] if override else list(SEARCH_DIRS)
    return [Path(d) for d in dirs]


def _candidates(dirs: Iterable[Path]) -> Iterable[Path]:
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in SUFFIXES and path.is_file():
                yield path


def _identify(path: Path) -> FoundFont | None:
    """The reserved font at `path`, or None. Files named like none of them are hashed only
    when their size is that of a known file (a renamed copy), so a folder of other fonts
    costs no reading."""
    by_name = _kind_by_name(path.name)
    if by_name is None and path.stat().st_size not in {k.size for k in KNOWN_FILES}:
        return None
    sha256 = file_sha256(path)
    known = _known_by_sha().get(sha256)
    if known is not None:
        return FoundFont(path, sha256, known.kind, known.package)
    return FoundFont(path, sha256, by_name, "") if by_name is not None else None


def _preferred(same: list[FoundFont]) -> FoundFont:
    """Of several paths to one file (Debian's default-GM.sf2 and MuseScore_General.sf3 are
    links), the one under the name Debian gives it, else the first by name."""
    known = _known_by_sha().get(same[0].sha256)
    named = [font for font in same if known is not None and font.name == known.name]
    return (named or sorted(same, key=lambda font: font.name))[0]


def find_reserved_soundfonts(
    dirs: Sequence[str | Path] | None = None,
) -> tuple[list[FoundFont], list[FoundFont]]:
    """The reserved SoundFonts installed here, one entry per distinct file, sorted by name.

    Args:
        dirs: folders to search (not recursively); default `search_dirs()`.
    Returns:
        (melodic General MIDI fonts, drum kits); `extra` files are left out of both.
    """
    folders = [Path(d) for d in dirs] if dirs is not None else search_dirs()
    by_sha: dict[str, list[FoundFont]] = {}
    for path in _candidates(folders):
        found = _identify(path)
        if found is not None:
            by_sha.setdefault(found.sha256, []).append(found)
    fonts = sorted((_preferred(same) for same in by_sha.values()), key=lambda f: f.name)
    return [f for f in fonts if f.kind == "melodic"], [f for f in fonts if f.kind == "drums"]


def unavailable_message() -> str:
    """The one line for a machine without the reserved fonts."""
    return (
        "no reserved-timbre SoundFont installed (searched "
        f"{', '.join(str(d) for d in search_dirs())}): {INSTALL_HINT}"
    )


# --- datasets rendered with them --------------------------------------------------------

SYNTH_MANIFEST = "manifest.json"
SYNTH_GENERATOR = "bandmate synth"


def synth_manifest_path(root: str | Path) -> Path | None:
    """The `bandmate synth` manifest of the dataset at `root`: root/manifest.json, or that
    of a folder above it (a reader pointed inside a synth dataset); None for other data."""
    start = Path(root).resolve()
    for folder in (start, *start.parents):
        path = folder / SYNTH_MANIFEST
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("generator") == SYNTH_GENERATOR:
            return path
    return None


def _record(name: Any, sha256: Any) -> dict[str, str] | None:
    if not isinstance(name, str) or not name:
        return None
    return {"file": Path(name).name, "sha256": sha256 if isinstance(sha256, str) else ""}


def manifest_soundfonts(manifest: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every SoundFont a synth manifest names, once each: {file, sha256} ('' when unknown).

    Reads the top-level `soundfonts` list and each stem's `soundfont` (written since the
    reserved timbres exist) and `settings.soundfont` + `soundfont_sha256` (every manifest).
    """
    records: list[dict[str, str] | None] = []
    settings = manifest.get("settings") or {}
    records.append(_record(settings.get("soundfont"), manifest.get("soundfont_sha256")))
    for font in manifest.get("soundfonts") or []:
        records.append(_record(font.get("file"), font.get("sha256")))
    for song in manifest.get("songs") or []:
        for stem in song.get("stems") or []:
            font = stem.get("soundfont") or {}
            records.append(_record(font.get("file"), font.get("sha256")))
    unique = {(r["file"], r["sha256"]): r for r in records if r is not None}
    return [unique[key] for key in sorted(unique)]


def dataset_soundfonts(root: str | Path) -> list[dict[str, str]]:
    """The SoundFonts the dataset at `root` was rendered with ([] when no synth manifest)."""
    path = synth_manifest_path(root)
    if path is None:
        return []
    return manifest_soundfonts(json.loads(path.read_text()))


def refuse_reserved(soundfonts: Iterable[Mapping[str, str]], dataset: str, command: str) -> None:
    """Raise a one-line `BandmateError` if any of `soundfonts` ({file, sha256}) is reserved.

    Args:
        soundfonts: the records of the data about to be trained on.
        dataset: what to name in the message (a dataset root or token directory).
        command: the refusing command (`tokenize`, `train`).
    """
    for font in soundfonts:
        reason = reserved_reason(font.get("file", ""), font.get("sha256"))
        if reason is not None:
            raise BandmateError(
                f"{dataset}: rendered with {reason}, a reserved timbre; reserved timbres are "
                f"for testing only, so `bandmate {command}` refuses it (render training data "
                "without --timbres reserved)"
            )
