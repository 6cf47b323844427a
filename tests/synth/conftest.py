"""Tiny synth renders shared by the synth tests (seconds of audio at 16 kHz)."""

from __future__ import annotations

import pytest

from bandmate.synth.dataset import SynthReport, SynthSettings, synthesize

TINY = {"clip_seconds": 3.0, "sample_rate_hz": 16_000, "sources": (("band", 1.0),)}


def tiny_settings(songs: int = 6, seed: int = 7, **overrides: object) -> SynthSettings:
    return SynthSettings(songs=songs, seed=seed, **{**TINY, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> SynthReport:
    """Six 3-second band songs, rendered in this process."""
    out = tmp_path_factory.mktemp("synth") / "tiny"
    return synthesize(out, tiny_settings(), jobs=1)
