"""Recorded drum kits in Hydrogen's format, played by a small numpy sampler.

A Hydrogen kit is a folder holding `drumkit.xml` and sample files (.wav, .flac, .aiff).
The XML lists instruments (`<instrument>`: id, name, volume) each with velocity layers
(`<layer>`: filename, min..max velocity in [0, 1], gain), or, in older kits, one
`<filename>` for every velocity. Debian's hydrogen-drumkits installs a dozen under
/usr/share/hydrogen/data/drumkits (acoustic kits, electronic kits, hand percussion).

General MIDI drum keys are matched to a kit's instruments by name (`KEY_WORDS`: 36 finds
`Kick`, `BassDrum` or `c3 - bass drum 1`), else, for the kit proper (keys 35-51), by
Hydrogen's own MIDI convention (the instrument of id `key - 36`), else the note is dropped
(a song's percussion part on a kit without shakers comes out silent and is left out).
Every hit plays its whole sample (one-shots: notes' releases are ignored), scaled by
velocity.
"""

from __future__ import annotations

import functools
import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bandmate.errors import BandmateError
from bandmate.synth.score import Part

KITS_DIR = "/usr/share/hydrogen/data/drumkits"
# BANDMATE_DRUMKITS=DIR[:DIR...]: folders of kits searched instead of KITS_DIR.
KITS_ENV = "BANDMATE_DRUMKITS"
HYDROGEN_KEY_BASE = 36  # Hydrogen plays instrument i on MIDI note 36 + i

_KICK = (("kick",), ("bass drum",), ("bassdrum",), ("bd",))
_SNARE = (("snare",),)
_TOM_LOW = (("floor",), ("tom low",), ("low tom",), ("tom 3",), ("tom",))
_TOM_MID = (("tom mid",), ("middle tom",), ("tom 2",), ("tom",))
_TOM_HIGH = (("tom hi",), ("tom high",), ("high tom",), ("tom 1",), ("tom",))
_CRASH = (("crash",), ("splash",), ("china",), ("cymbal",))
_RIDE = (("ride",), ("cymbal",), ("crash",))
# GM key -> word groups, tried in order: an instrument matches a group when its lower-case
# name contains every word of it and no word of `SPECIAL` that the group does not name
# (so 38 finds `Snare`, not `Snare Roll`, and 51 `Ride`, not `Ride Bell`).
SPECIAL = ("roll", "rim", "bell", "choke", "flink", "swish", "mute")
KEY_WORDS: dict[int, tuple[tuple[str, ...], ...]] = {
    35: _KICK,
    36: _KICK,
    37: (("stick",), ("rim",)),
    38: _SNARE,
    39: (("clap",), ("snap",)),
    40: (("snare", "rim"), ("snare 2",), ("snare",)),
    41: _TOM_LOW,
    42: (("closed",), ("hat", "cl"), ("hh",), ("hat",)),
    43: _TOM_LOW,
    44: (("pedal",), ("hat", "pd"), ("closed",), ("hat",)),
    45: _TOM_MID,
    46: (("open",), ("hat", "op"), ("hat",)),
    47: _TOM_MID,
    48: _TOM_HIGH,
    49: _CRASH,
    50: _TOM_HIGH,
    51: _RIDE,
    52: (("china",), *_CRASH),
    53: (("bell",), *_RIDE),
    54: (("tambourine",),),
    55: (("splash",), *_CRASH),
    56: (("cowbell",),),
    57: _CRASH,
    59: _RIDE,
    60: (("bongo", "hi"), ("bongo",)),
    61: (("bongo", "lo"), ("bongo",)),
    69: (("cabasa",), ("shaker",), ("maraca",)),
    70: (("maraca",), ("shaker",), ("cabasa",)),
    75: (("clave",),),
    76: (("block", "hi"), ("block",)),
    77: (("block", "lo"), ("block",)),
    82: (("shaker",), ("maraca",), ("cabasa",)),
}
# Keys of the kit proper (kick to ride), which may fall back to Hydrogen's convention;
# hand percussion above it plays only on an instrument named for it.
FALLBACK_KEYS = range(35, 52)


@dataclass(frozen=True)
class Layer:
    """One sample of an instrument, played for velocities in [low, high] (0..1)."""

    file: str  # path of the sample
    low: float
    high: float
    gain: float


@dataclass(frozen=True)
class Instrument:
    id: int
    name: str
    volume: float
    layers: tuple[Layer, ...]

    def layer(self, velocity: float) -> Layer:
        """The layer for `velocity` (0..1); the nearest one where none covers it."""
        for layer in self.layers:
            if layer.low <= velocity <= layer.high:
                return layer
        return min(self.layers, key=lambda x: min(abs(x.low - velocity), abs(x.high - velocity)))


@dataclass(frozen=True)
class HydrogenKit:
    """A Hydrogen drum kit: its folder, its name and the instruments that have samples."""

    folder: str
    name: str
    instruments: tuple[Instrument, ...]
    sha256: str  # of the folder (`folder_sha256`)

    @functools.cached_property
    def keys(self) -> dict[int, Instrument]:
        """GM key -> the instrument that plays it (keys the kit has nothing for are absent)."""
        by_id = {inst.id: inst for inst in self.instruments}
        table = {}
        for key in range(27, 88):
            found = _by_name(self.instruments, KEY_WORDS.get(key, ()))
            if found is None and key in FALLBACK_KEYS:
                found = by_id.get(key - HYDROGEN_KEY_BASE)
            if found is not None:
                table[key] = found
        return table

    @functools.cached_property
    def is_drum_set(self) -> bool:
        """Whether the kit has a kick and a snare by name: a drum set, not a kit of claps or
        djembes (whose instruments the MIDI-convention fallback would play as kick and snare)."""
        return all(_by_name(self.instruments, KEY_WORDS[key]) is not None for key in (36, 38))


def _by_name(
    instruments: tuple[Instrument, ...], groups: tuple[tuple[str, ...], ...]
) -> Instrument | None:
    for words in groups:
        for inst in instruments:
            name = inst.name.lower()
            special = any(word in name and word not in words for word in SPECIAL)
            if all(word in name for word in words) and not special:
                return inst
    return None


def _text(element: ET.Element, tag: str, default: str = "") -> str:
    found = element.find(tag)
    return found.text.strip() if found is not None and found.text else default


def _strip_namespaces(root: ET.Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]


def read_kit(folder: str | Path) -> HydrogenKit:
    """Parse `folder/drumkit.xml`; a one-line `BandmateError` for a missing or bad kit."""
    folder = Path(folder)
    path = folder / "drumkit.xml"
    if not path.is_file():
        raise BandmateError(f"{folder}: not a Hydrogen drum kit (no drumkit.xml)")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise BandmateError(f"{path}: unreadable drumkit.xml ({error})") from None
    _strip_namespaces(root)
    instruments = []
    for element in root.iter("instrument"):
        layers = [
            Layer(
                str(folder / _text(layer, "filename")),
                float(_text(layer, "min", "0")),
                float(_text(layer, "max", "1")),
                float(_text(layer, "gain", "1")),
            )
            for layer in element.iter("layer")
            if _text(layer, "filename")
        ]
        if not layers and _text(element, "filename"):  # older kits: one sample
            layers = [Layer(str(folder / _text(element, "filename")), 0.0, 1.0, 1.0)]
        layers = [layer for layer in layers if Path(layer.file).is_file()]
        if layers and _text(element, "isMuted", "false") != "true":
            instruments.append(
                Instrument(
                    int(_text(element, "id", "-1")),
                    _text(element, "name"),
                    float(_text(element, "volume", "1")),
                    tuple(layers),
                )
            )
    if not instruments:
        raise BandmateError(f"{path}: the kit has no instrument with a readable sample")
    name = _text(root, "name", folder.name) or folder.name
    return HydrogenKit(str(folder), name, tuple(instruments), folder_sha256(str(folder)))


def kit_dirs() -> list[Path]:
    """Where kits are looked for: $BANDMATE_DRUMKITS, else KITS_DIR."""
    override = os.environ.get(KITS_ENV, "")
    return [Path(d) for d in (override.split(os.pathsep) if override else [KITS_DIR]) if d]


def find_kits() -> list[HydrogenKit]:
    """Every Hydrogen kit installed (sorted by folder name); none where there are none.

    A folder named in $BANDMATE_DRUMKITS that does not exist is a one-line error (a typo
    should not quietly shrink the pool); the default folder may be missing.
    """
    kits = []
    override = bool(os.environ.get(KITS_ENV))
    for folder in kit_dirs():
        if not folder.is_dir():
            if override:
                raise BandmateError(f"{KITS_ENV}: {folder} is not a folder of Hydrogen kits")
            continue
        for kit in sorted(folder.iterdir()):
            if (kit / "drumkit.xml").is_file():
                kits.append(read_kit(kit))
    return kits


@functools.cache
def folder_sha256(folder: str) -> str:
    """Checksum of a kit folder: sha256 over each file's relative path and bytes, in order."""
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@functools.cache
def _sample(path: str, sample_rate_hz: int) -> np.ndarray:
    """A sample file as mono float32 [S] at `sample_rate_hz` (decoded once per process)."""
    import soundfile
    import soxr

    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)  # [S, C]
    except Exception as error:  # libsndfile's errors carry no common type
        raise BandmateError(f"{path}: unreadable drum sample ({error})") from None
    mono = data.mean(axis=1)
    if rate != sample_rate_hz:
        mono = soxr.resample(mono, rate, sample_rate_hz, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


def render_kit(
    kit: HydrogenKit, part: Part, num_samples: int, sample_rate_hz: int, channels: int
) -> np.ndarray:
    """Play a drum part on a recorded kit.

    Returns:
        audio [C, S] float32 (C = `channels`, S = `num_samples`), not normalized.
    """
    out = np.zeros(num_samples, dtype=np.float32)
    table = kit.keys
    for note in part.notes:
        inst = table.get(note.pitch)
        start = round(note.start_s * sample_rate_hz)
        if inst is None or start >= num_samples:
            continue
        velocity = note.velocity / 127.0
        layer = inst.layer(velocity)
        sample = _sample(layer.file, sample_rate_hz)[: num_samples - start]
        # Hydrogen scales by velocity linearly within a layer; squared reads more natural
        # across layers of one-sample instruments.
        out[start : start + sample.size] += sample * (layer.gain * inst.volume * velocity**2)
    if channels == 1:
        return out[None, :]
    left, right = np.cos((part.pan + 1) * np.pi / 4), np.sin((part.pan + 1) * np.pi / 4)
    return np.stack([out * left, out * right]).astype(np.float32)


def kit_notes_dropped(kit: HydrogenKit, part: Part) -> int:
    """How many notes of `part` the kit has no instrument for."""
    return sum(note.pitch not in kit.keys for note in part.notes)
