"""Shared test fixtures: real dataset metadata (tests/fixtures), short synthesized audio."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from bandmate.data.medleydb import load_metadata
from tests.tiny import build_checkpoint
from tests.tokens.conftest import tiny_encodec

REPO = Path(__file__).resolve().parents[1]
# A copy of the project's shared/fixtures (PROVENANCE.md there), so that a clone anywhere
# runs the suite; BANDMATE_FIXTURES points the tests at another copy.
FIXTURES = Path(os.environ.get("BANDMATE_FIXTURES", REPO / "tests" / "fixtures"))
MEDLEYDB_METADATA = FIXTURES / "medleydb-metadata"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop with one line, not a screen of FileNotFoundErrors, when the fixtures are missing."""
    if not MEDLEYDB_METADATA.is_dir():
        raise pytest.UsageError(
            f"{FIXTURES}: test fixtures not found (BANDMATE_FIXTURES names a missing folder?)"
        )


def tone(seconds: float, rate: int, freq: float, amp: float = 0.3) -> np.ndarray:
    """A sine tone [S] float32."""
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_medleydb_song(
    root: Path, song_id: str, seconds: float = 3.0, rate: int = 8000, audio_dir: str = "V1"
) -> Path:
    """Copy a real fixture's metadata under root/Metadata and write a tone per stem."""
    meta = MEDLEYDB_METADATA / f"{song_id}_METADATA.yaml"
    (root / "Metadata").mkdir(parents=True, exist_ok=True)
    shutil.copy(meta, root / "Metadata" / meta.name)
    data = load_metadata(meta)
    song_dir = root / audio_dir / song_id
    stem_dir = song_dir / data["stem_dir"]
    stem_dir.mkdir(parents=True, exist_ok=True)
    for index, stem in enumerate(sorted(data["stems"].values(), key=lambda s: s["filename"])):
        sf.write(stem_dir / stem["filename"], tone(seconds, rate, 110.0 * (index + 1)), rate)
    sf.write(song_dir / data["mix_filename"], tone(seconds, rate, 220.0), rate)
    return song_dir


@pytest.fixture
def medleydb_root(tmp_path: Path) -> Path:
    """A MedleyDB root with two real songs' metadata and 3 s of synthetic stems."""
    for song in ("Plasma_GoodShout", "SlowGhost_Peanut"):
        write_medleydb_song(tmp_path, song)
    return tmp_path


@pytest.fixture(scope="session")
def encodec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local EnCodec directory, as `save_pretrained` (and the hub) lays it out."""
    folder = tmp_path_factory.mktemp("encodec_tiny")
    tiny_encodec().save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def flatten_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkpoint(tmp_path_factory.mktemp("ckpt"), "flatten")


@pytest.fixture(scope="session")
def delay_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkpoint(tmp_path_factory.mktemp("ckpt"), "delay")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread (and CI has two cores for everything)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
