"""The MedleyDB layout of a rendered song: metadata YAML, stems, mix, MIDI.

    ROOT/Metadata/<Song>_METADATA.yaml        (the MedleyDB schema, keys as in real files)
    ROOT/Audio/<Song>/<Song>_MIX.wav
    ROOT/Audio/<Song>/<Song>_STEMS/<Song>_STEM_NN.wav
    ROOT/Audio/<Song>/<Song>_MIDI/<Song>_STEM_NN.mid   (the notes of each stem)
    ROOT/Audio/<Song>/<Song>_MIDI/<Song>_MIX.mid       (all parts)

Raw tracks are listed in the metadata as MedleyDB does (one per stem) but are not
written: they would be copies of the stems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bandmate.data.roles import Role, role_of
from bandmate.synth.score import Part, Score

AUDIO_DIR = "Audio"


@dataclass(frozen=True)
class SongPaths:
    """Where one song's files go under a dataset root."""

    root: Path
    song_id: str

    @property
    def metadata(self) -> Path:
        return self.root / "Metadata" / f"{self.song_id}_METADATA.yaml"

    @property
    def song_dir(self) -> Path:
        return self.root / AUDIO_DIR / self.song_id

    @property
    def mix(self) -> Path:
        return self.song_dir / f"{self.song_id}_MIX.wav"

    @property
    def mix_midi(self) -> Path:
        return self.song_dir / f"{self.song_id}_MIDI" / f"{self.song_id}_MIX.mid"

    def stem(self, number: int) -> Path:
        return self.song_dir / f"{self.song_id}_STEMS" / f"{self.song_id}_STEM_{number:02d}.wav"

    def stem_midi(self, number: int) -> Path:
        return self.song_dir / f"{self.song_id}_MIDI" / f"{self.song_id}_STEM_{number:02d}.mid"


def metadata(paths: SongPaths, score: Score, parts: list[Part]) -> dict[str, Any]:
    """The `<Song>_METADATA.yaml` mapping; `parts` are the stems in order (S01, S02, ...)."""
    song = paths.song_id
    stems = {}
    for number, part in enumerate(parts, start=1):
        stems[f"S{number:02d}"] = {
            "component": part.component,
            "filename": paths.stem(number).name,
            "instrument": part.label,
            "raw": {
                "R01": {"filename": f"{song}_RAW_{number:02d}_01.wav", "instrument": part.label}
            },
        }
    vocal = any(role_of(part.label) == Role.VOCALS for part in parts)
    composer = "Johann Sebastian Bach" if score.source.startswith("chorale") else ""
    return {
        "album": "bandmate synth",
        "artist": song.split("_", 1)[0],
        "composer": composer,
        "excerpt": "no",
        "genre": score.genre,
        "has_bleed": "no",
        "instrumental": "no" if vocal else "yes",
        "mix_filename": paths.mix.name,
        "origin": "bandmate synth",
        "producer": "",
        "raw_dir": f"{song}_RAW",
        "stem_dir": f"{song}_STEMS",
        "stems": stems,
        "title": score.title,
        "version": 1.2,
        "website": "",
    }


def metadata_yaml(data: dict[str, Any]) -> str:
    """YAML text in the style of MedleyDB's files (block style, keys sorted)."""
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True, allow_unicode=True)
