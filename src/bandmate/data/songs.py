"""What every dataset reader returns: songs made of stems with instrument labels.

Labels follow the MedleyDB taxonomy wherever a dataset's own labels can be mapped onto
it (see `roles.py`), so presets such as `drums-to-bass` mean the same in every dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bandmate.data.roles import Role, role_of


@dataclass(frozen=True)
class Stem:
    """One stem of a song.

    Attributes:
        name: the stem's file name as the metadata gives it (e.g. `X_STEM_01.wav`).
        instruments: instrument labels; more than one when the stem mixes instruments.
        path: where its audio is (or would be; metadata-only scans don't check).
        rendered: False for a stem a dataset lists without audio (Slakh's unrendered sources).
        extra_paths: further files summed into this stem (MoisesDB keeps a stem in parts).
    """

    name: str
    instruments: tuple[str, ...]
    path: Path
    rendered: bool = True
    extra_paths: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        """Every audio file of the stem (their sum is the stem)."""
        return (self.path, *self.extra_paths)

    @property
    def midi_path(self) -> Path | None:
        """The MIDI file a dataset ships beside the stem's audio, if any: `bandmate
        synth`'s `<song>_MIDI/<stem>.mid` beside `<song>_STEMS/`, Slakh's `MIDI/<stem>.mid`
        beside `stems/`, or `<stem>.mid` next to the audio."""
        folder = self.path.parent
        name = f"{self.path.stem}.mid"
        for candidate in (
            folder.parent / folder.name.replace("_STEMS", "_MIDI") / name,
            folder.parent / "MIDI" / name,
            folder / name,
        ):
            if candidate.is_file():
                return candidate
        return None

    @property
    def roles(self) -> frozenset[Role]:
        """The roles of all its instruments."""
        return frozenset(role_of(label) for label in self.instruments)


@dataclass(frozen=True)
class Song:
    """One multitrack song: its id (stable across runs: it decides the split), stems, mix."""

    song_id: str
    dataset: str
    stems: tuple[Stem, ...]
    mix_path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Skipped:
    """A song a scan could not use, and why (reported on stderr, never fatal)."""

    song_id: str
    reason: str
