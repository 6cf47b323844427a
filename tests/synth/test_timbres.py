"""The reserved (test-only) timbres: the list, `bandmate synth --timbres reserved`, and
the `single` render, which never uses them (tests/synth/test_varied.py: nor `varied`).

Tests that render with the real fonts skip without them (apt-get install
fluid-soundfont-gm musescore-general-soundfont avldrums.lv2) and fail instead where
BANDMATE_REQUIRE_TIMBRES=1, as in CI.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bandmate.cli import main
from bandmate.data import reserved
from bandmate.data.reserved import (
    DEBIAN_PACKAGES,
    SEARCH_ENV,
    ReservedFile,
    find_reserved_soundfonts,
    is_reserved,
    reserved_reason,
)
from bandmate.synth import band, drums
from bandmate.synth.dataset import SynthReport, synthesize
from bandmate.synth.render import DrumKit, render_part
from bandmate.synth.score import Note, Part
from bandmate.synth.timbres import AVLDRUMS_KEYS, Palette, Timbre, choose_timbres
from tests.synth.conftest import reserved_fonts_or_skip, reserved_settings, tiny_settings

from .test_dataset import _hashes


def _manifest(report: SynthReport) -> dict:
    return json.loads((report.out / "manifest.json").read_text())


def _fake_font(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A small file that the checksum table knows as FluidR3_GM.sf2."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"RIFF" + bytes(range(256)) * 4)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    known = ReservedFile(
        "FluidR3_GM.sf2", sha256, path.stat().st_size, "fluid-soundfont-gm", "melodic"
    )
    monkeypatch.setattr(reserved, "KNOWN_FILES", (*reserved.KNOWN_FILES, known))
    return path, sha256


def test_a_renamed_copy_is_caught_by_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sha256 = _fake_font(tmp_path / "fonts", "my_piano.sf2", monkeypatch)
    (tmp_path / "fonts" / "other.sf2").write_bytes(b"RIFF other font")
    melodic, kits = find_reserved_soundfonts([tmp_path / "fonts"])
    assert [(f.path, f.sha256, f.kind) for f in melodic] == [(path, sha256, "melodic")] and not kits
    assert is_reserved("my_piano.sf2", sha256)
    assert reserved_reason("my_piano.sf2", sha256) == (
        "my_piano.sf2 (a renamed copy of FluidR3_GM.sf2)"
    )
    assert not is_reserved("my_piano.sf2", "0" * 64)
    assert not is_reserved("other.sf2", None)


def test_names_are_reserved_whatever_their_spelling() -> None:
    timgm = "82475b91a76de15cb28a104707d3247ba932e228bada3f47bba63c6b31aaf7a1"
    assert not is_reserved("TimGM6mb.sf2", timgm)
    for name in (
        "FluidR3_GM.sf2",
        "/somewhere/fluid-r3 gm (v3.1).SF2",
        "FluidR3Mono_GM.sf3",
        "MuseScore_General.sf2",
        "Black_Pearl_4_LV2.sf2",
        "red zeppelin.sf2",
    ):
        assert is_reserved(name, None), name
    known = {f.sha256 for f in reserved.KNOWN_FILES}
    assert len(known) == len(reserved.KNOWN_FILES) and all(len(s) == 64 for s in known)


def test_links_to_one_file_are_one_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's default-GM.sf2 is a link to FluidR3_GM.sf2: one font, under Debian's name."""
    path, _ = _fake_font(tmp_path, "FluidR3_GM.sf2", monkeypatch)
    (tmp_path / "default-GM.sf2").symlink_to(path)
    melodic, _ = find_reserved_soundfonts([tmp_path])
    assert [f.name for f in melodic] == ["FluidR3_GM.sf2"]


def test_each_song_draws_its_fonts_from_its_own_seed() -> None:
    gm = tuple(Timbre(f"/f/{n}.sf2", f"{n}.sf2", n * 64) for n in "ab")
    kits = tuple(Timbre(f"/k/{n}.sf2", f"{n}.sf2", n * 64, DrumKit("avldrums", 0)) for n in "xy")
    draws = [choose_timbres(Palette(gm, kits), 5, index) for index in range(12)]
    assert draws == [choose_timbres(Palette(gm, kits), 5, index) for index in range(12)]
    assert {d.melodic.file for d in draws} == {"a.sf2", "b.sf2"}
    assert {d.drums.file for d in draws} == {"x.sf2", "y.sf2"}
    # without kits the drums play on the General MIDI font's own kit, the same font drawn
    alone = [choose_timbres(Palette(gm), 5, index) for index in range(12)]
    assert [(t.melodic, t.drums) for t in alone] == [(d.melodic, d.melodic) for d in draws]


def test_installed_fonts_are_the_known_debian_files() -> None:
    melodic, kits = reserved_fonts_or_skip()
    for font in melodic + kits:
        assert font.package, f"{font.path}: an unknown version (sha256 {font.sha256})"


def test_a_renamed_copy_of_a_real_kit_is_found(tmp_path: Path) -> None:
    _, kits = reserved_fonts_or_skip()
    shutil.copyfile(kits[0].path, tmp_path / "drums.sf2")
    melodic, found = find_reserved_soundfonts([tmp_path])
    assert not melodic and [(f.name, f.sha256) for f in found] == [("drums.sf2", kits[0].sha256)]


def test_every_drum_key_the_composer_plays_sounds_on_each_kit() -> None:
    """Each GM key of synth/drums.py lands on a piece of the kit, and on a sounding one."""
    _, kits = reserved_fonts_or_skip()
    keys = sorted({drums.KICK, drums.SIDE_STICK, drums.SNARE, drums.CLAP, drums.CLOSED_HAT,
                   drums.PEDAL_HAT, drums.OPEN_HAT, drums.CRASH, drums.RIDE, drums.COWBELL,
                   *drums.TOMS, *(key for key, _, _ in band.PERCUSSION)})  # fmt: skip
    kit = DrumKit("avldrums", 0, AVLDRUMS_KEYS)
    table = dict(AVLDRUMS_KEYS)
    assert table[48] == 45 and table[50] == 47  # toms, not a hat swish and a cymbal choke
    assert table[82] == 61  # the shaker on the maracas
    for font in kits:
        for key in keys:
            mapped = table.get(key, key)
            assert mapped is not None and 36 <= mapped <= 61  # the kits' keys
            part = Part("drums", 0, True, "drum set", notes=[Note(0.0, 0.1, key, 100)])
            wav = render_part(part, 8000, 16_000, 1, str(font.path), kit=kit)
            assert np.abs(wav).max() > 1e-3, (font.name, key)


def test_reserved_render_names_only_reserved_fonts(reserved_dataset: SynthReport) -> None:
    manifest = _manifest(reserved_dataset)
    assert manifest["settings"]["timbres"] == "reserved"
    assert manifest["settings"]["soundfont"] is None and "soundfont_sha256" not in manifest
    assert manifest["soundfonts"] and all(
        is_reserved(f["file"], f["sha256"]) for f in manifest["soundfonts"]
    )
    for song in manifest["songs"]:
        fonts = {stem["is_drum"]: stem["soundfont"] for stem in song["stems"]}
        assert all(is_reserved(f["file"], f["sha256"]) for f in fonts.values())
        assert fonts[True]["kit_keys"] == "avldrums" and fonts[True]["notes_dropped"] == 0
        assert fonts[False]["file"] != fonts[True]["file"]  # pitched parts on a GM font


def test_reserved_render_same_seed_same_bytes(
    reserved_dataset: SynthReport,
    reserved_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two worker processes give the bytes of one (the fonts drawn per song, not per worker)."""
    monkeypatch.setenv(SEARCH_ENV, str(reserved_dir))
    again = synthesize(tmp_path / "again", reserved_settings(), jobs=2)
    assert _hashes(again.out) == _hashes(reserved_dataset.out)


def test_cli_says_the_render_is_for_testing_only(
    tmp_path: Path,
    reserved_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(SEARCH_ENV, str(reserved_dir))
    args = ["--songs", "1", "--clip-seconds", "2", "--jobs", "1", "--no-progress"]
    assert main(["synth", "--out", str(tmp_path / "ds"), *args, "--timbres", "reserved"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("rendered with reserved timbres, for testing only")


def test_missing_reserved_fonts_are_one_line_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SEARCH_ENV, str(tmp_path / "no-fonts-here"))
    out = tmp_path / "ds"
    args = ["synth", "--out", str(out), "--songs", "1", "--clip-seconds", "2", "--jobs", "1"]
    assert main([*args, "--timbres", "reserved"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"apt-get install {' '.join(DEBIAN_PACKAGES)}" in err[0]
    assert not out.exists()
    assert main([*args, "--no-progress", "--sources", "band"]) == 0  # a default render
    before = _hashes(out)
    assert main([*args, "--timbres", "reserved", "--overwrite"]) == 2  # and it is kept
    assert _hashes(out) == before


def test_single_render_uses_its_one_font(tmp_path: Path) -> None:
    report = synthesize(tmp_path / "single", tiny_settings(songs=2, timbres="single"), jobs=1)
    manifest = _manifest(report)
    assert manifest["settings"]["timbres"] == "single"
    assert [f["file"] for f in manifest["soundfonts"]] == ["TimGM6mb.sf2"]
    for song in manifest["songs"]:
        for stem in song["stems"]:
            font = stem["soundfont"]
            assert font["file"] == "TimGM6mb.sf2" and font["sha256"] == manifest["soundfont_sha256"]
            assert not is_reserved(font["file"], font["sha256"])
            assert font["bank"] == (128 if stem["is_drum"] else 0) and font["preset"]
