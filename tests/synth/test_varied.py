"""`bandmate synth --timbres varied` (the default): the pool of SoundFonts, recorded kits and
synthesizer patches, the effect chains, and what the manifest says of them (issue #34).

The pool test needs Debian's csound-soundfont, opl3-soundfont and hydrogen-drumkits; it
skips without them and fails instead where BANDMATE_REQUIRE_TIMBRES=1, as in CI.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bandmate.cli import main
from bandmate.data.reserved import SEARCH_ENV, is_reserved
from bandmate.errors import BandmateError
from bandmate.synth import production
from bandmate.synth.dataset import SynthReport, SynthSettings, synthesize
from bandmate.synth.humanize import draw_variation
from bandmate.synth.kits import KITS_ENV, find_kits, read_kit, render_kit
from bandmate.synth.patches import PATCHES, jitter_patch, patch_sha256, render_patch
from bandmate.synth.render import default_soundfont
from bandmate.synth.score import Note, Part
from bandmate.synth.timbres import KitVoice, PatchVoice, draw_voices, varied_palette

RATE = 16_000
POOL_PACKAGES = "apt-get install csound-soundfont opl3-soundfont hydrogen-drumkits"


def _manifest(report: SynthReport) -> dict:
    return json.loads((report.out / "manifest.json").read_text())


def write_kit(folder: Path, name: str = "Tiny Kit") -> Path:
    """A Hydrogen kit of two instruments: a kick with two velocity layers (a 100 Hz and a
    200 Hz click) and a snare with one sample in the old one-filename format."""
    folder.mkdir(parents=True)
    t = np.arange(800) / 8000
    for file, hz in (("kick_soft.wav", 100), ("kick_hard.wav", 200), ("snare.flac", 400)):
        sf.write(folder / file, (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), 8000)
    (folder / "drumkit.xml").write_text(
        f"""<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>{name}</name>
 <instrumentList>
  <instrument><id>0</id><name>Kick</name><volume>1</volume>
   <layer><filename>kick_soft.wav</filename><min>0</min><max>0.5</max><gain>1</gain></layer>
   <layer><filename>kick_hard.wav</filename><min>0.5</min><max>1</max><gain>1</gain></layer>
  </instrument>
  <instrument><id>1</id><name>Snare Rock</name><volume>0.5</volume>
   <filename>snare.flac</filename></instrument>
  <instrument><id>2</id><name>Gone</name><filename>missing.wav</filename></instrument>
 </instrumentList>
</drumkit_info>
"""
    )
    return folder


def _peak_hz(wav: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wav))
    return float(np.fft.rfftfreq(wav.size, 1 / rate)[int(np.argmax(spectrum))])


def test_a_hydrogen_kit_plays_by_name_and_velocity_layer(tmp_path: Path) -> None:
    kit = read_kit(write_kit(tmp_path / "kit"))
    assert kit.name == "Tiny Kit" and len(kit.sha256) == 64
    assert [inst.name for inst in kit.instruments] == ["Kick", "Snare Rock"]  # `Gone`: no file
    assert kit.keys[36].name == "Kick" and kit.keys[38].name == "Snare Rock"
    assert 42 not in kit.keys  # no hat, and no instrument of id 42 - 36
    drums = Part("drums", 0, True, "drum set", notes=[Note(0.0, 0.1, 36, 30)])
    soft = render_kit(kit, drums, RATE, RATE, 1)  # [1, S]
    drums.notes = [Note(0.5, 0.6, 36, 120), Note(0.0, 0.1, 42, 100)]
    hard = render_kit(kit, drums, RATE, RATE, 2)  # [2, S]
    assert soft.shape == (1, RATE) and hard.shape == (2, RATE)
    assert abs(_peak_hz(soft[0, :1600], RATE) - 100) < 15
    assert np.abs(hard[:, : RATE // 2]).max() == 0  # the hat is dropped, the kick at 0.5 s
    assert abs(_peak_hz(hard[0, RATE // 2 : RATE // 2 + 1600], RATE) - 200) < 15


def test_bad_kits_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BandmateError, match="not a Hydrogen drum kit"):
        read_kit(tmp_path / "nowhere")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "drumkit.xml").write_text("<drumkit_info><name>")
    with pytest.raises(BandmateError, match=r"unreadable drumkit\.xml"):
        read_kit(tmp_path / "broken")
    monkeypatch.setenv(KITS_ENV, str(tmp_path / "no-kits-here"))
    with pytest.raises(BandmateError, match=f"{KITS_ENV}: .*no-kits-here is not a folder"):
        find_kits()


def test_cli_names_a_missing_kit_folder_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KITS_ENV, str(tmp_path / "no-kits-here"))
    out = tmp_path / "ds"
    assert main(["synth", "--out", str(out), "--songs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-kits-here is not a folder of Hydrogen kits" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timbres", "bogus"], "--timbres: one of varied, single, reserved, not 'bogus'"),
        (["--timbres", "varied", "--soundfont", "{sf}"], "it goes with --timbres single"),
    ],
    ids=["unknown-mode", "soundfont-with-varied"],
)
def test_bad_timbre_options_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ds"
    argv = ["synth", "--out", str(out), "--songs", "1", "--no-progress"]
    assert main([*argv, *(a.format(sf=default_soundfont()) for a in args)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_a_soundfont_alone_means_single(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    argv = ["synth", "--out", str(out), "--songs", "1", "--clip-seconds", "2", "--no-progress"]
    assert main([*argv, "--sources", "band", "--soundfont", str(default_soundfont())]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["timbres"] == "single"
    assert [f["file"] for f in manifest["soundfonts"]] == ["TimGM6mb.sf2"]


def test_patches_play_in_tune_and_are_named_by_their_parameters() -> None:
    rng = np.random.default_rng(0)
    for patch in PATCHES:
        varied = jitter_patch(patch, rng)
        assert varied.name.startswith(patch.name) and patch_sha256(varied) != patch_sha256(patch)
        part = Part("bass", 33, False, "electric bass", notes=[Note(0.1, 0.9, 45, 100)])
        wav = render_patch(varied, part, RATE, RATE, 1)  # [1, S]: A2, 110 Hz
        assert wav.shape == (1, RATE) and np.isfinite(wav).all() and np.abs(wav).max() > 0.05
        assert np.abs(wav[0, :1600]).max() == 0  # nothing before the note
        harmonic = _peak_hz(wav[0, 1600:14000], RATE) / 110.0
        assert abs(harmonic - round(harmonic)) < 0.05, patch.name  # a harmonic of A2
    assert jitter_patch(PATCHES[0], np.random.default_rng(3)) == jitter_patch(
        PATCHES[0], np.random.default_rng(3)
    )


def test_parts_are_replayed_with_a_velocity_curve_and_basses_in_another_octave() -> None:
    notes = [Note(0.1 * i, 0.1 * i + 0.1, 40 + i % 12, 20 + 10 * i) for i in range(10)]
    variations = [draw_variation(np.random.default_rng(seed), notes, True) for seed in range(60)]
    assert {v.octave_shift for v in variations} == {-12, 0, 12}
    assert all(0.67 <= v.velocity_curve <= 1.5 for v in variations)
    for variation in variations:
        played = variation.apply(notes)
        shifts = {n.pitch - o.pitch for n, o in zip(played, notes, strict=True)}
        assert shifts == {variation.octave_shift}
        velocities = [n.velocity for n in played]
        assert velocities == sorted(velocities) and min(velocities) >= 1  # order kept
    high = [Note(0.0, 0.1, 60, 100)]  # an octave up would leave the bass range
    shifts = {draw_variation(np.random.default_rng(s), high, True).octave_shift for s in range(60)}
    assert shifts == {-12, 0}
    shifts = {draw_variation(np.random.default_rng(s), notes, False).octave_shift for s in range(9)}
    assert shifts == {0}  # not a bass


def test_effect_chains_are_drawn_from_the_seed_and_keep_the_shape() -> None:
    wav = np.random.default_rng(1).standard_normal((2, RATE)).astype(np.float32) * 0.1
    for role in ("bass", "drums", "harmonic"):
        for seed in range(6):
            chain = production.draw_chain(np.random.default_rng(seed), role)
            assert chain == production.draw_chain(np.random.default_rng(seed), role)
            assert chain[0].name == "HighpassFilter" and chain[-1].name == "noise"
            out = production.apply_chain(wav, chain, RATE)
            assert out.shape == wav.shape and out.dtype == np.float32 and np.isfinite(out).all()
            assert np.array_equal(out, production.apply_chain(wav, chain, RATE))
    ir = production.room_impulse(0.5, RATE, np.random.default_rng(0))
    head, tail = np.abs(ir[: RATE // 20]).mean(), np.abs(ir[-RATE // 20 :]).mean()
    assert ir.size == RATE // 2 and 20 * np.log10(head / tail) > 40  # ~60 dB over rt60


def test_reserved_fonts_and_kits_never_enter_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "FluidR3_GM.sf2").symlink_to(default_soundfont())  # reserved by its name
    (fonts / "other.sf2").symlink_to(default_soundfont())  # TimGM6mb again: one source
    write_kit(tmp_path / "kits" / "The Black Pearl 1.0", name="The Black Pearl 1.0")
    write_kit(tmp_path / "kits" / "Tiny")
    monkeypatch.setenv(SEARCH_ENV, str(fonts))
    monkeypatch.setenv(KITS_ENV, str(tmp_path / "kits"))
    palette = varied_palette()
    assert [font.file for font in palette.fonts] == ["TimGM6mb.sf2"]
    assert [kit.name for kit in palette.kits] == ["Tiny Kit"]


def test_each_part_draws_its_sound_from_its_own_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_kit(tmp_path / "kits" / "Tiny")
    monkeypatch.setenv(KITS_ENV, str(tmp_path / "kits"))
    monkeypatch.setenv(SEARCH_ENV, str(tmp_path / "no-fonts"))
    palette = varied_palette()
    parts = [
        Part("drums", 0, True, "drum set", notes=[Note(0.0, 0.1, 36, 100)]),
        Part("bass", 33, False, "electric bass"),
        Part("pad", 89, False, "synthesizer"),
    ]
    songs = [draw_voices(palette, 5, index, parts) for index in range(40)]
    assert songs == [draw_voices(palette, 5, index, parts) for index in range(40)]
    assert draw_voices(palette, 5, 3, parts[1:]) != songs[3][1:]  # position is in the seed
    assert {type(song[0]) for song in songs} >= {KitVoice}
    assert {type(song[1]) for song in songs} >= {PatchVoice}
    # the tiny kit has no shaker: a shaker part never draws it, and always sounds
    shaker = Part("percussion", 0, True, "shaker", notes=[Note(0.0, 0.1, 82, 100)])
    assert not [v for v in draw_voices(palette, 5, 0, [shaker] * 40) if isinstance(v, KitVoice)]


def test_varied_manifest_records_sources_and_effects(tiny_dataset: SynthReport) -> None:
    manifest = _manifest(tiny_dataset)
    assert manifest["settings"]["timbres"] == "varied" and "soundfont_sha256" not in manifest
    for song in manifest["songs"]:
        for stem in song["stems"]:
            source = stem["soundfont"]
            assert source["kind"] in ("soundfont", "kit", "patch") and len(source["sha256"]) == 64
            assert source["pool"] in ("bass", "drums", "pad", "harmonic")
            assert not is_reserved(source["file"], source["sha256"])
            assert not is_reserved(source["source"], source["sha256"])
            assert stem["effects"][-1]["effect"] == "noise" and -1 <= stem["pan"] <= 1
            assert set(stem["performance"]) == {"velocity_curve", "octave_shift"}


def _sources_by_role(manifest: dict) -> dict[str, set[str]]:
    pools: dict[str, set[str]] = defaultdict(set)
    for song in manifest["songs"]:
        for stem in song["stems"]:
            source = stem["soundfont"]
            pools[{"pad": "harmonic"}.get(source["pool"], source["pool"])].add(source["source"])
    return pools


def test_24_songs_draw_at_least_6_sources_per_role_and_no_reserved_one(tmp_path: Path) -> None:
    """Issue #34's bar, counted in the manifest: named sources (a font, a kit, a named patch
    whatever its jitter), per role (bass, drums, and the harmonic parts)."""
    palette = varied_palette()
    if len(palette.fonts) < 3 or len(palette.kits) < 6:
        reason = f"needs the varied pool's Debian packages ({POOL_PACKAGES})"
        if os.environ.get("BANDMATE_REQUIRE_TIMBRES") == "1":
            pytest.fail(f"BANDMATE_REQUIRE_TIMBRES=1 but: {reason}")
        pytest.skip(reason)
    settings = SynthSettings(songs=24, seed=0, clip_seconds=2.0, sample_rate_hz=RATE)
    manifest = _manifest(synthesize(tmp_path / "ds", settings, jobs=2))
    pools = _sources_by_role(manifest)
    assert {role: len(names) >= 6 for role, names in pools.items()} == {
        "bass": True,
        "drums": True,
        "harmonic": True,
    }, pools
    for font in manifest["soundfonts"]:
        assert not is_reserved(font["file"], font["sha256"])


def test_a_groove_never_plays_on_a_kit_of_hand_percussion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kit of claps and djembes has instruments of id 0 and 1, which Hydrogen's MIDI
    convention would play as kick and snare: a drum-set part must not draw it."""
    folder = tmp_path / "kits" / "Hands"
    folder.mkdir(parents=True)
    sf.write(folder / "hit.wav", np.full(80, 0.5, dtype=np.float32), 8000)
    instruments = "".join(
        f"<instrument><id>{i}</id><name>{name}</name><filename>hit.wav</filename></instrument>"
        for i, name in enumerate(("Clap", "Djembe"))
    )
    (folder / "drumkit.xml").write_text(
        f"<drumkit_info><name>Hands</name><instrumentList>{instruments}</instrumentList>"
        "</drumkit_info>"
    )
    monkeypatch.setenv(KITS_ENV, str(tmp_path / "kits"))
    palette = varied_palette()
    (kit,) = palette.kits
    assert 36 in kit.keys and not kit.is_drum_set  # the fallback alone would play it
    groove = Part("drums", 0, True, "drum set", notes=[Note(0.0, 0.1, 36, 100)])
    assert not [v for v in draw_voices(palette, 5, 0, [groove] * 40) if isinstance(v, KitVoice)]
    claps = Part("percussion", 0, True, "claps", notes=[Note(0.0, 0.1, 39, 100)])
    assert [v for v in draw_voices(palette, 5, 0, [claps] * 40) if isinstance(v, KitVoice)]
