from pathlib import Path

import pytest
import yaml

from bandmate.data.medleydb import load_metadata, scan_medleydb
from bandmate.errors import DataError
from tests.conftest import MEDLEYDB_METADATA


def test_all_fixture_metadata_files_load():
    songs, skipped = scan_medleydb(MEDLEYDB_METADATA)
    assert skipped == []
    assert len(songs) == 43
    counts = {s.song_id: len(s.stems) for s in songs}
    assert counts["AmarLal_SpringDay1"] == 1
    assert counts["Lushlife_ToynbeeSuite"] == 26
    for song in songs:
        for stem in song.stems:
            assert stem.instruments, f"{song.song_id} {stem.name} has no instrument"
            assert stem.path.name == stem.name


def test_list_valued_and_special_instruments():
    songs = {s.song_id: s for s in scan_medleydb(MEDLEYDB_METADATA)[0]}
    aerosmith = {st.name: st.instruments for st in songs["Aerosmith_LoveInAnElevator"].stems}
    assert aerosmith["Aerosmith_LoveInAnElevator_STEM_04.wav"][:3] == (
        "female speaker",
        "distorted electric guitar",
        "drum set",
    )
    acdc = {st.name: st.instruments for st in songs["AcDc_BackInBlack"].stems}
    assert acdc["AcDc_BackInBlack_STEM_01.wav"] == ("Main System",)
    sabbath = [st.instruments for st in songs["BlackSabbath_WarPigs"].stems]
    assert ("Unlabeled",) in sabbath


def test_audio_paths_found_under_version_folder(medleydb_root: Path):
    songs, _ = scan_medleydb(medleydb_root)
    assert {s.song_id for s in songs} == {"Plasma_GoodShout", "SlowGhost_Peanut"}
    for song in songs:
        assert all(stem.path.is_file() for stem in song.stems)
        assert song.mix_path is not None and song.mix_path.is_file()


def test_filenames_come_from_yaml_not_the_pattern(tmp_path: Path):
    data = load_metadata(MEDLEYDB_METADATA / "SlowGhost_Peanut_METADATA.yaml")
    data["stem_dir"] = "odd_stems"
    data["stems"]["S01"]["filename"] = "kick and kit.wav"
    (tmp_path / "SlowGhost_Peanut_METADATA.yaml").write_text(yaml.safe_dump(data))
    song = scan_medleydb(tmp_path)[0][0]
    assert song.stems[0].path == tmp_path / "SlowGhost_Peanut" / "odd_stems" / "kick and kit.wav"


def test_malformed_yaml_is_skipped_with_file_named(tmp_path: Path):
    (tmp_path / "Broken_Song_METADATA.yaml").write_text("stems: [unclosed\n")
    songs, skipped = scan_medleydb(tmp_path)
    assert songs == []
    assert "Broken_Song_METADATA.yaml" in skipped[0].reason
    assert "malformed YAML" in skipped[0].reason


def test_metadata_without_stems_raises(tmp_path: Path):
    path = tmp_path / "X_METADATA.yaml"
    path.write_text("title: x\n")
    with pytest.raises(DataError, match="no `stems`"):
        load_metadata(path)


def test_root_without_metadata_is_an_error(tmp_path: Path):
    with pytest.raises(DataError, match="not a MedleyDB root"):
        scan_medleydb(tmp_path)
