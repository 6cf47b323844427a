"""`bandmate tokenize` refuses datasets rendered with the reserved (test-only) timbres and
records the timbres of what it tokenizes, for `bandmate train` to check in turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bandmate.cli import main
from bandmate.data.reserved import KNOWN_FILES
from bandmate.errors import BandmateError
from bandmate.tokens import pipeline
from tests.tokens.conftest import write_song
from tests.tokens.test_pipeline import make_config

FLUID_SHA256 = next(f.sha256 for f in KNOWN_FILES if f.name == "FluidR3_GM.sf2")
TIMGM = {"file": "TimGM6mb.sf2", "sha256": "82475b91" + "0" * 56}


def synth_dataset(root: Path, drum_font: dict[str, str]) -> Path:
    """Two MedleyDB-layout songs and a `bandmate synth` manifest whose drum stems name
    `drum_font` and whose other stems name TimGM6mb."""
    songs = []
    for song in ("Synth1_Band00000", "Synth1_Band00001"):
        write_song(root, song)
        stems = [{"is_drum": True, "soundfont": drum_font}, {"is_drum": False, "soundfont": TIMGM}]
        songs.append({"song_id": song, "stems": stems})
    manifest = {
        "generator": "bandmate synth",
        "settings": {"soundfont": None, "timbres": "reserved"},
        "songs": songs,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.mark.parametrize(
    ("font", "named"),
    [
        ({"file": "FluidR3_GM.sf2", "sha256": ""}, "FluidR3_GM.sf2"),
        ({"file": "piano.sf2", "sha256": FLUID_SHA256}, "piano.sf2 (a renamed copy of FluidR3_GM"),
    ],
)
def test_tokenize_refuses_a_reserved_timbre_and_writes_nothing(
    tmp_path: Path, encodec_dir: Path, font: dict[str, str], named: str
) -> None:
    root = synth_dataset(tmp_path / "data", font)
    with pytest.raises(BandmateError) as error:
        pipeline.tokenize_dataset(make_config(root, encodec_dir), tmp_path / "tok")
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{root}: rendered with {named}")
    assert "reserved timbres are for testing only" in message
    assert not (tmp_path / "tok").exists()


def test_cli_refusal_is_one_line(
    tmp_path: Path, encodec_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = synth_dataset(tmp_path / "data", {"file": "Red_Zeppelin_4_LV2.sf2", "sha256": ""})
    sets = [f"root={root}", "preset=drums-to-bass", f"codec=encodec:{encodec_dir}@3kbps"]
    argv = ["tokenize", "--out", str(tmp_path / "tok"), "--no-progress"]
    assert main([*argv, *(a for s in sets for a in ("--set", s))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Red_Zeppelin_4_LV2.sf2, a reserved timbre" in err[0]
    assert not (tmp_path / "tok").exists()


def test_pointing_inside_a_reserved_dataset_is_refused_too(tmp_path: Path, encodec_dir: Path):
    """A reader given a folder inside a synth dataset finds the manifest above it."""
    root = synth_dataset(tmp_path / "data", {"file": "FluidR3_GM.sf2", "sha256": ""})
    inner = root / "V1"
    (inner / "Metadata").symlink_to(root / "Metadata")
    (inner / "V1").symlink_to(root / "V1")
    with pytest.raises(BandmateError, match="reserved timbre"):
        pipeline.tokenize_dataset(make_config(inner, encodec_dir), tmp_path / "tok")
