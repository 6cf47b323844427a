"""Pairs: which stems of a song are the input, which are mixed into the target.

A *spec* names stems: a label of the MedleyDB taxonomy (`drum set`), a role (`drums`,
`bass`, `vocals`, `other`), `all` (every usable stem that is not input) or
`all-but:X` (`all` minus the stems matching spec X). Specs join with commas.

Rules, chosen so that the target never contains the input instrument:
- an input stem is a stem all of whose instruments match the input spec;
- a stem that mixes the input instrument with others is neither input nor target;
- `Main System` / `Unlabeled` stems (role `unknown`) are never used.
"""

from __future__ import annotations

from dataclasses import dataclass

from bandmate.data.roles import Role, role_of
from bandmate.data.songs import Song, Stem
from bandmate.data.splits import DEFAULT_FRACTIONS, Split, split_of
from bandmate.errors import BandmateError


@dataclass(frozen=True)
class PairSpec:
    """What a model learns to map: input spec -> target spec."""

    input: str
    target: str


# DESIGN.md §1: the thesis's six configurations plus SingSong's vocals-to-instrumental.
PRESETS: dict[str, PairSpec] = {
    "drums-to-all": PairSpec("drum set", "all"),
    "drums-to-instrumental": PairSpec("drum set", "all-but:vocals"),
    "drums-to-bass": PairSpec("drum set", "bass"),
    "bass-to-drums": PairSpec("bass", "drum set"),
    "bass-to-instrumental": PairSpec("bass", "all-but:vocals"),
    "bass-to-all": PairSpec("bass", "all"),
    "vocals-to-instrumental": PairSpec("vocals", "all-but:vocals"),
}


@dataclass(frozen=True)
class Pair:
    """One song's input stems and target stems, with its split."""

    song: Song
    split: Split
    input_stems: tuple[Stem, ...]
    target_stems: tuple[Stem, ...]

    def as_json(self) -> dict[str, object]:
        """The `bandmate pairs --json` record (DESIGN.md §3)."""
        return {
            "song": self.song.song_id,
            "split": self.split,
            "input_stems": [s.name for s in self.input_stems],
            "target_stems": [s.name for s in self.target_stems],
            "input_instruments": [list(s.instruments) for s in self.input_stems],
            "target_instruments": [list(s.instruments) for s in self.target_stems],
        }


def resolve_spec(preset: str | None, input_spec: str | None, target_spec: str | None) -> PairSpec:
    """A preset name, or a free input/target choice (exactly one of the two)."""
    if preset is not None:
        if input_spec or target_spec:
            raise BandmateError("give either --preset or --input/--target, not both")
        if preset not in PRESETS:
            raise BandmateError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        return PRESETS[preset]
    if not input_spec or not target_spec:
        raise BandmateError("give --preset NAME, or both --input and --target")
    if input_spec.strip() in ("all",) or input_spec.startswith("all-but:"):
        raise BandmateError(f"--input {input_spec!r}: the input must name an instrument or role")
    return PairSpec(input_spec, target_spec)


ROLE_NAMES = frozenset(role.value for role in Role)


def _matches_label(label: str, term: str) -> bool:
    return label == term or (term in ROLE_NAMES and role_of(label) == term)


def stem_matches(stem: Stem, spec: str) -> bool:
    """True when every instrument of `stem` matches one of the comma-separated terms."""
    terms = [t.strip() for t in spec.split(",") if t.strip()]
    return bool(stem.instruments) and all(
        any(_matches_label(label, term) for term in terms) for label in stem.instruments
    )


def _touches(stem: Stem, spec: str) -> bool:
    """True when any instrument of `stem` matches the spec (it carries that instrument)."""
    terms = [t.strip() for t in spec.split(",") if t.strip()]
    return any(_matches_label(label, term) for label in stem.instruments for term in terms)


def usable(stem: Stem) -> bool:
    """A stem with audio, and not a whole-band or unlabeled recording."""
    return stem.rendered and bool(stem.instruments) and Role.UNKNOWN not in stem.roles


def find_input_stem(song: Song, input_spec: str) -> tuple[Stem, ...]:
    """The song's stems whose instruments all match `input_spec` (thesis §4.1)."""
    return tuple(s for s in song.stems if usable(s) and stem_matches(s, input_spec))


def find_target_stems(song: Song, spec: PairSpec) -> tuple[Stem, ...]:
    """The stems mixed into the target: never an input stem, never one carrying the input."""
    candidates = [s for s in song.stems if usable(s) and not _touches(s, spec.input)]
    target = spec.target.strip()
    if target == "all":
        return tuple(candidates)
    if target.startswith("all-but:"):
        excluded = target.removeprefix("all-but:")
        return tuple(s for s in candidates if not _touches(s, excluded))
    return tuple(s for s in candidates if stem_matches(s, target))


def build_pair(
    song: Song, spec: PairSpec, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
) -> Pair | str:
    """The song's pair, or the reason there is none."""
    inputs = find_input_stem(song, spec.input)
    if not inputs:
        return f"no input stem matching {spec.input!r}"
    targets = find_target_stems(song, spec)
    if not targets:
        return f"no target stem matching {spec.target!r}"
    return Pair(song, split_of(song.song_id, fractions), inputs, targets)
