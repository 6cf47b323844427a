"""MedleyDB reader: `Metadata/<Song>_METADATA.yaml` + audio folders.

Layout (MedleyDB 1.x and 2.0):

    ROOT/Metadata/<Song>_METADATA.yaml
    ROOT/<Audio>/<Song>/<Song>_MIX.wav                  (<Audio> is V1, V2, Audio, ...)
    ROOT/<Audio>/<Song>/<Song>_STEMS/<Song>_STEM_NN.wav

Schema quirks handled here (all present in the 43 real files of ../shared/fixtures):
- `instrument` is a string or a list of strings (a stem mixing several instruments);
- `Main System` / `Unlabeled` stems (role `unknown`: never input nor target);
- file names are taken from the YAML (`stem_dir`, `filename`, `mix_filename`), never
  rebuilt from the song id, because raw and stem names do not always follow the pattern;
- songs with a single stem, and up to 26 stems;
- `raw` entries are ignored (stems are what the thesis used).
`--root` may also point at a `Metadata/` folder itself (metadata-only use).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bandmate.data.songs import Skipped, Song, Stem
from bandmate.errors import DataError

METADATA_SUFFIX = "_METADATA.yaml"


def metadata_dir(root: Path) -> Path:
    """The folder holding `*_METADATA.yaml` files: ROOT/Metadata, or ROOT itself."""
    if (root / "Metadata").is_dir():
        return root / "Metadata"
    if root.is_dir() and any(root.glob(f"*{METADATA_SUFFIX}")):
        return root
    raise DataError(root, "not a MedleyDB root: no Metadata/ folder and no *_METADATA.yaml files")


def load_metadata(path: Path) -> dict[str, Any]:
    """Parse and validate one metadata file; raise `DataError` naming the file."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        raise DataError(path, f"malformed YAML{where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(path, f"unreadable metadata ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("stems"), dict):
        raise DataError(path, "metadata has no `stems` mapping")
    for stem_id, stem in data["stems"].items():
        if not isinstance(stem, dict) or "filename" not in stem or "instrument" not in stem:
            raise DataError(path, f"stem {stem_id} lacks `filename` or `instrument`")
    return data


def _instruments(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str(item).strip() for item in items if item is not None and str(item).strip())


def _audio_dirs(root: Path) -> list[Path]:
    """Candidate audio folders: ROOT itself and its sub-folders other than Metadata."""
    if not root.is_dir() or root.name == "Metadata":
        return []
    return [root, *sorted(p for p in root.iterdir() if p.is_dir() and p.name != "Metadata")]


def _song_dir(audio_dirs: list[Path], song_id: str) -> Path | None:
    for folder in audio_dirs:
        if (folder / song_id).is_dir():
            return folder / song_id
    return None


def song_from_metadata(path: Path, song_dir: Path) -> Song:
    """Build a `Song` from one metadata file; audio paths point under `song_dir`."""
    data = load_metadata(path)
    song_id = path.name[: -len(METADATA_SUFFIX)]
    stem_dir = song_dir / str(data.get("stem_dir") or f"{song_id}_STEMS")
    stems = tuple(
        Stem(
            name=str(stem["filename"]),
            instruments=_instruments(stem["instrument"]),
            path=stem_dir / str(stem["filename"]),
        )
        for _, stem in sorted(data["stems"].items())
    )
    mix = data.get("mix_filename")
    extra = {k: str(data[k]) for k in ("artist", "title", "genre") if data.get(k) is not None}
    return Song(
        song_id=song_id,
        dataset="medleydb",
        stems=stems,
        mix_path=song_dir / str(mix) if mix else None,
        extra=extra,
    )


def scan_medleydb(root: str | Path) -> tuple[list[Song], list[Skipped]]:
    """All songs under a MedleyDB root, and the ones whose metadata is unusable.

    Audio is not opened; a song whose audio folder is absent still gets paths (under
    ROOT/<song>) so that metadata-only listing works.
    """
    root = Path(root)
    meta = metadata_dir(root)
    audio_dirs = _audio_dirs(root)
    songs: list[Song] = []
    skipped: list[Skipped] = []
    for path in sorted(meta.glob(f"*{METADATA_SUFFIX}")):
        song_id = path.name[: -len(METADATA_SUFFIX)]
        song_dir = _song_dir(audio_dirs, song_id) or root / song_id
        try:
            songs.append(song_from_metadata(path, song_dir))
        except DataError as error:
            skipped.append(Skipped(song_id, str(error)))
    return songs, skipped
