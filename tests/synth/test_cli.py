"""`bandmate synth` on the command line, then `bandmate pairs` on what it wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from bandmate.cli import main
from bandmate.errors import BandmateError
from bandmate.synth.cli import parse_sources

ARGS = ["--songs", "2", "--seed", "3", "--clip-seconds", "2", "--sample-rate", "16000"]
FAST = [*ARGS, "--sources", "band", "--jobs", "1", "--no-progress"]


def test_synth_then_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ds"
    assert main(["synth", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 songs" in printed and "s of audio per second" in printed
    assert (
        main(["pairs", "--dataset", "medleydb", "--root", str(out), "--preset", "drums-to-bass"])
        == 0
    )
    assert "2 pairs from 2 songs" in capsys.readouterr().err


def test_refuses_to_replace_a_foreign_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["synth", "--out", str(tmp_path), *FAST]) == 2
    assert "not a `bandmate synth` dataset" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_overwrite_replaces_an_earlier_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ds"
    assert main(["synth", "--out", str(out), *FAST]) == 0
    assert main(["synth", "--out", str(out), *FAST]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["synth", "--out", str(out), *FAST, "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--songs", "0"], "--songs"),
        (["--sources", "polka"], "unknown source"),
        (["--sample-rate", "100"], "--sample-rate"),
        (["--soundfont", "/nonexistent.sf2"], "SoundFont file not found"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["synth", "--out", str(tmp_path / "x"), *FAST, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "x").exists()


def test_unreadable_soundfont(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    out = tmp_path / "x"
    assert main(["synth", "--out", str(out), *FAST, "--soundfont", str(bad)]) == 2
    assert f"{bad}: not a readable .sf2/.sf3 SoundFont" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sf2"]


def test_parse_sources() -> None:
    assert parse_sources("band,folk=0.5") == (("band", 1.0), ("folk", 0.5))
    with pytest.raises(BandmateError):
        parse_sources("band=x")
