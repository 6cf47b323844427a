"""Slakh2100, MUSDB18-HQ, MoisesDB and plain-folder readers on tiny synthetic audio."""

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf
import yaml

from bandmate.data.clips import ClipConfig, iter_clips
from bandmate.data.datasets import scan_dataset
from bandmate.data.pairs import PRESETS, Pair, build_pair
from bandmate.errors import BandmateError
from tests.conftest import FIXTURES, tone

SLAKH_TRACK = FIXTURES / "slakh-metadata" / "babyslakh_16k" / "Track00001"


def pair_of(dataset: str, root: Path, preset: str) -> Pair:
    songs, skipped = scan_dataset(dataset, root)
    assert skipped == []
    pair = build_pair(songs[0], PRESETS[preset])
    assert isinstance(pair, Pair), pair
    return pair


def test_slakh_renders_rendered_stems_and_keeps_unrendered_out(tmp_path: Path):
    track = tmp_path / "train" / "Track00001"
    shutil.copytree(SLAKH_TRACK, track)
    meta = yaml.safe_load((track / "metadata.yaml").read_text())
    for stem_id in ("S01", "S03"):  # drums and bass get audio; the rest stay unrendered
        meta["stems"][stem_id]["audio_rendered"] = True
        (track / "stems").mkdir(exist_ok=True)
        sf.write(track / "stems" / f"{stem_id}.flac", tone(2.0, 16000, 80.0), 16000)
    (track / "metadata.yaml").write_text(yaml.safe_dump(meta))
    pair = pair_of("slakh", tmp_path, "bass-to-all")
    assert [s.name for s in pair.input_stems] == ["S03.flac"]
    assert [(s.name, s.instruments) for s in pair.target_stems] == [("S01.flac", ("drum set",))]
    assert len(list(iter_clips(pair, ClipConfig(clip_seconds=1.0)))) == 2


def test_slakh_redux_audio_dir_relative_to_parent():
    songs, _ = scan_dataset("slakh", FIXTURES / "slakh-metadata" / "slakh2100_flac_redux")
    stems = {s.name: s for s in songs[0].stems}
    assert stems["S01.flac"].instruments == ("drum set",)  # program 128
    assert stems["S01.flac"].path.parent.name == "stems"


def test_musdb_four_stems_and_missing_stem_reported(tmp_path: Path):
    song = tmp_path / "train" / "A - B"
    song.mkdir(parents=True)
    for name in ("drums", "bass", "other", "vocals", "mixture"):
        sf.write(song / f"{name}.wav", tone(2.0, 8000, 100.0), 8000)
    broken = tmp_path / "test" / "C - D"
    broken.mkdir(parents=True)
    sf.write(broken / "drums.wav", tone(2.0, 8000, 100.0), 8000)
    songs, skipped = scan_dataset("musdb", tmp_path)
    assert [s.song_id for s in songs] == ["A - B"]
    assert "missing bass.wav" in skipped[0].reason
    pair = build_pair(songs[0], PRESETS["vocals-to-instrumental"])
    assert isinstance(pair, Pair)
    assert sorted(s.name for s in pair.target_stems) == ["bass.wav", "drums.wav", "other.wav"]


def test_moisesdb_stems_sum_their_tracks(tmp_path: Path):
    track = tmp_path / "provider" / "0a1b"
    data = {
        "song": "x",
        "artist": "y",
        "genre": "rock",
        "stems": [
            {
                "stemName": "drums",
                "id": "d",
                "tracks": [
                    {"id": "k", "trackType": "kick drum", "extension": "wav"},
                    {"id": "s", "trackType": "snare drum", "extension": "wav"},
                ],
            },
            {
                "stemName": "bass",
                "id": "b",
                "tracks": [
                    {
                        "id": "b1",
                        "trackType": "contrabass/double bass (bass of instrings)",
                        "extension": "wav",
                    }
                ],
            },
        ],
    }
    for stem in data["stems"]:
        (track / stem["stemName"]).mkdir(parents=True)
        for t in stem["tracks"]:
            sf.write(track / stem["stemName"] / f"{t['id']}.wav", tone(1.0, 8000, 60.0), 8000)
    (track / "data.json").write_text(json.dumps(data))
    pair = pair_of("moisesdb", tmp_path, "drums-to-bass")
    assert pair.input_stems[0].instruments == ("drum set",)
    assert len(pair.input_stems[0].files) == 2
    assert pair.target_stems[0].instruments == ("double bass",)
    clip = next(iter_clips(pair, ClipConfig(clip_seconds=1.0)))
    assert abs(clip.input.max() - 0.6) < 0.01  # two tracks summed


def test_moisesdb_malformed_json_is_skipped_naming_the_file(tmp_path: Path):
    (tmp_path / "t1").mkdir()
    (tmp_path / "t1" / "data.json").write_text("{not json")
    songs, skipped = scan_dataset("moisesdb", tmp_path)
    assert songs == [] and "data.json: malformed JSON" in skipped[0].reason


def test_folder_labels_from_names_and_sidecar(tmp_path: Path):
    song = tmp_path / "my song"
    song.mkdir()
    for name in ("Drums.wav", "bass_1.flac", "lead.wav", "mix.wav"):
        sf.write(song / name, tone(1.0, 8000, 100.0), 8000)
    (song / "stems.yaml").write_text("lead.wav: [female singer]\n")
    songs, _ = scan_dataset("folder", tmp_path)
    labels = {s.name: s.instruments for s in songs[0].stems}
    assert labels == {
        "Drums.wav": ("drum set",),
        "bass_1.flac": ("electric bass",),
        "lead.wav": ("female singer",),
    }
    assert songs[0].mix_path == song / "mix.wav"
    pair = build_pair(songs[0], PRESETS["vocals-to-instrumental"])
    assert isinstance(pair, Pair) and len(pair.target_stems) == 2


def test_folder_sidecar_naming_missing_file_is_reported(tmp_path: Path):
    song = tmp_path / "s"
    song.mkdir()
    sf.write(song / "drums.wav", tone(1.0, 8000, 100.0), 8000)
    (song / "stems.yaml").write_text("ghost.wav: piano\n")
    _, skipped = scan_dataset("folder", tmp_path)
    assert "stems.yaml" in skipped[0].reason and "ghost.wav" in skipped[0].reason


def test_unknown_dataset_or_root():
    with pytest.raises(BandmateError, match="unknown dataset"):
        scan_dataset("nope", ".")
    with pytest.raises(BandmateError, match="not found"):
        scan_dataset("musdb", "/nonexistent/root")


def _slakh_track(track: Path) -> None:
    shutil.copytree(SLAKH_TRACK, track)


def _musdb_track(track: Path) -> None:
    track.mkdir(parents=True)
    for name in ("drums", "bass", "other", "vocals"):
        sf.write(track / f"{name}.wav", tone(1.0, 8000, 100.0), 8000)


def _moisesdb_track(track: Path) -> None:
    (track / "bass").mkdir(parents=True)
    sf.write(track / "bass" / "b1.wav", tone(1.0, 8000, 60.0), 8000)
    stem = {"stemName": "bass", "id": "b", "tracks": [{"id": "b1", "trackType": "bass guitar"}]}
    (track / "data.json").write_text(json.dumps({"stems": [stem]}))


@pytest.mark.parametrize(
    ("dataset", "make_track"),
    [("slakh", _slakh_track), ("musdb", _musdb_track), ("moisesdb", _moisesdb_track)],
)
def test_loaders_follow_symlinked_folders(dataset: str, make_track, tmp_path: Path):
    # a training root that links into the real data set, with a link back up the tree
    make_track(tmp_path / "store" / "Track1")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(tmp_path / "store", target_is_directory=True)
    (tmp_path / "store" / "up").symlink_to(root, target_is_directory=True)
    songs, skipped = scan_dataset(dataset, root)
    assert [s.song_id for s in songs] == ["Track1"] and skipped == []
