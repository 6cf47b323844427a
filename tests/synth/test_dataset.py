"""The rendered dataset: MedleyDB layout and schema, stems that sum to the mix, determinism."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from bandmate.data.audio import rms_db
from bandmate.data.medleydb import scan_medleydb
from bandmate.data.pairs import PRESETS, Pair, build_pair
from bandmate.synth import dataset
from bandmate.synth.dataset import SynthReport, synthesize
from tests.conftest import MEDLEYDB_METADATA
from tests.synth.conftest import tiny_settings

REAL_METADATA = MEDLEYDB_METADATA / "AcDc_BackInBlack_METADATA.yaml"


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_medleydb_reader_loads_every_song(tiny_dataset: SynthReport) -> None:
    songs, skipped = scan_medleydb(tiny_dataset.out)
    assert not skipped
    assert len(songs) == 6
    for song in songs:
        assert song.mix_path is not None and song.mix_path.is_file()
        assert len(song.stems) >= 2
        assert all(stem.path.is_file() for stem in song.stems)
        midi_dir = song.mix_path.parent / f"{song.song_id}_MIDI"
        assert len(list(midi_dir.glob("*_STEM_*.mid"))) == len(song.stems)


def test_metadata_has_the_real_schema(tiny_dataset: SynthReport) -> None:
    real = yaml.safe_load(REAL_METADATA.read_text())
    real_stem = real["stems"]["S02"]
    for path in (tiny_dataset.out / "Metadata").glob("*_METADATA.yaml"):
        data = yaml.safe_load(path.read_text())
        assert list(data) == list(real)
        for stem in data["stems"].values():
            assert list(stem) == list(real_stem)
            assert list(stem["raw"]["R01"]) == list(real_stem["raw"]["R01"])


def test_stems_sum_to_the_mix_and_durations_agree(tiny_dataset: SynthReport) -> None:
    songs, _ = scan_medleydb(tiny_dataset.out)
    expected = round(3.0 * 16_000)
    for song in songs:
        assert song.mix_path is not None
        mix, rate = sf.read(song.mix_path, dtype="int16")
        stems = [sf.read(stem.path, dtype="int16")[0] for stem in song.stems]
        assert rate == 16_000
        assert mix.shape[0] == expected and all(s.shape == mix.shape for s in stems)
        np.testing.assert_array_equal(np.sum([s.astype(np.int32) for s in stems], axis=0), mix)
        assert np.abs(mix.astype(np.int32)).max() < 32767  # no clipping


def test_every_stem_is_audible(tiny_dataset: SynthReport) -> None:
    songs, _ = scan_medleydb(tiny_dataset.out)
    for song in songs:
        for stem in song.stems:
            wav, _ = sf.read(stem.path, dtype="float32")
            assert rms_db(wav) > -50.0, stem.path


def test_every_preset_finds_pairs(tiny_dataset: SynthReport) -> None:
    songs, _ = scan_medleydb(tiny_dataset.out)
    for name, spec in PRESETS.items():
        pairs = [p for p in (build_pair(song, spec) for song in songs) if isinstance(p, Pair)]
        assert pairs, name


def test_manifest_describes_every_song(tiny_dataset: SynthReport) -> None:
    manifest = json.loads((tiny_dataset.out / "manifest.json").read_text())
    assert manifest["settings"]["seed"] == 7 and manifest["generator"] == "bandmate synth"
    assert len(manifest["songs"]) == 6
    for entry in manifest["songs"]:
        assert 60 <= entry["tempo_bpm"] <= 180
        assert entry["key"] and entry["meter"] and entry["sections"]
        for stem in entry["stems"]:
            assert (tiny_dataset.out / stem["file"]).is_file()
            assert (tiny_dataset.out / stem["midi"]).is_file()


def test_same_seed_same_bytes_in_parallel(tiny_dataset: SynthReport, tmp_path: Path) -> None:
    again = synthesize(tmp_path / "again", tiny_settings(), jobs=2)
    assert _hashes(again.out) == _hashes(tiny_dataset.out)


def test_different_seed_different_songs(tiny_dataset: SynthReport, tmp_path: Path) -> None:
    other = synthesize(tmp_path / "other", tiny_settings(songs=2, seed=8), jobs=1)
    first = json.loads((tiny_dataset.out / "manifest.json").read_text())["songs"]
    second = json.loads((other.out / "manifest.json").read_text())["songs"]
    assert not set(_hashes(other.out).values()) & set(_hashes(tiny_dataset.out).values())
    strip = ("song_id", "metadata", "mix", "midi", "stems")
    assert [{k: v for k, v in s.items() if k not in strip} for s in first[:2]] != [
        {k: v for k, v in s.items() if k not in strip} for s in second
    ]


def test_failed_run_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = dataset.render_song

    def flaky(
        settings: dataset.SynthSettings, index: int, root: Path, palette: dataset.Palette | None
    ) -> dict:
        if index == 1:
            raise RuntimeError("boom")
        return real(settings, index, root, palette)

    monkeypatch.setattr(dataset, "render_song", flaky)
    with pytest.raises(RuntimeError, match="boom"):
        synthesize(tmp_path / "out", tiny_settings(songs=2), jobs=1)
    assert list(tmp_path.iterdir()) == []


def test_stereo_and_another_sample_rate(tmp_path: Path) -> None:
    report = synthesize(tmp_path / "st", tiny_settings(songs=1, channels=2, sample_rate_hz=22_050))
    songs, _ = scan_medleydb(report.out)
    assert songs[0].mix_path is not None
    mix, rate = sf.read(songs[0].mix_path, dtype="int16")
    stems = [sf.read(stem.path, dtype="int16")[0].astype(np.int32) for stem in songs[0].stems]
    assert rate == 22_050 and mix.shape == (round(3.0 * 22_050), 2)
    np.testing.assert_array_equal(np.sum(stems, axis=0), mix)


def test_a_given_soundfont_is_used(tmp_path: Path) -> None:
    """A SoundFont with other sample data (here: noise added) renders other audio."""
    from bandmate.synth.render import default_soundfont

    data = bytearray(default_soundfont().read_bytes())
    at = data.find(b"smpl")
    size = int.from_bytes(data[at + 4 : at + 8], "little")
    samples = np.frombuffer(bytes(data[at + 8 : at + 8 + size]), dtype="<i2").astype(np.int32)
    noise = np.random.default_rng(0).integers(-3000, 3000, samples.size)
    data[at + 8 : at + 8 + size] = (
        np.clip(samples // 2 + noise, -32768, 32767).astype("<i2").tobytes()
    )
    custom = tmp_path / "noisy.sf2"
    custom.write_bytes(bytes(data))
    single = tiny_settings(songs=1, timbres="single")
    report = synthesize(tmp_path / "out", replace(single, soundfont=str(custom)))
    manifest = json.loads((report.out / "manifest.json").read_text())
    assert manifest["settings"]["soundfont"] == "noisy.sf2"
    stem = manifest["songs"][0]["stems"][0]["file"]
    timgm = synthesize(tmp_path / "timgm", single)  # the same song on TimGM6mb
    assert (report.out / stem).read_bytes() != (timgm.out / stem).read_bytes()
