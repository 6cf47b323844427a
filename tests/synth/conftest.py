"""Tiny synth renders shared by the synth tests (seconds of audio at 16 kHz)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bandmate.data.reserved import INSTALL_HINT, SEARCH_ENV, FoundFont, find_reserved_soundfonts
from bandmate.synth.dataset import SynthReport, SynthSettings, synthesize

TINY = {"clip_seconds": 3.0, "sample_rate_hz": 16_000, "sources": (("band", 1.0),)}


def tiny_settings(songs: int = 6, seed: int = 7, **overrides: object) -> SynthSettings:
    return SynthSettings(songs=songs, seed=seed, **{**TINY, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> SynthReport:
    """Six 3-second band songs, rendered in this process."""
    out = tmp_path_factory.mktemp("synth") / "tiny"
    return synthesize(out, tiny_settings(), jobs=1)


def reserved_fonts_or_skip() -> tuple[list[FoundFont], list[FoundFont]]:
    """The reserved fonts installed here (General MIDI fonts, drum kits); skips the test
    when either is missing, but fails where BANDMATE_REQUIRE_TIMBRES=1 (CI sets it after
    installing them, see .ci/run), so a broken install cannot pass as a skip."""
    melodic, kits = find_reserved_soundfonts()
    if melodic and kits:
        return melodic, kits
    reason = f"needs the reserved-timbre SoundFonts ({INSTALL_HINT})"
    if os.environ.get("BANDMATE_REQUIRE_TIMBRES") == "1":
        pytest.fail(f"BANDMATE_REQUIRE_TIMBRES=1 but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def reserved_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A font folder for BANDMATE_SOUNDFONTS: links to the installed kits and to one General
    MIDI font, an .sf2 if there is one (FluidR3_GM parses in ~1.5 s, MuseScore's .sf3 in ~12)."""
    melodic, kits = reserved_fonts_or_skip()
    fastest = min(melodic, key=lambda f: (f.path.suffix != ".sf2", f.path.stat().st_size))
    folder = tmp_path_factory.mktemp("reserved_fonts")
    for font in [fastest, *kits]:
        (folder / font.name).symlink_to(font.path.resolve())
    return folder


@pytest.fixture(scope="session")
def reserved_dataset(tmp_path_factory: pytest.TempPathFactory, reserved_dir: Path) -> SynthReport:
    """Two 4-second band songs (drums included) on the reserved timbres, in this process."""
    out = tmp_path_factory.mktemp("synth") / "reserved"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SEARCH_ENV, str(reserved_dir))
        return synthesize(out, reserved_settings(), jobs=1)


def reserved_settings(**overrides: object) -> SynthSettings:
    return tiny_settings(songs=2, seed=11, clip_seconds=4.0, timbres="reserved", **overrides)
