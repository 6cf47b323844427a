import json
from pathlib import Path

import pytest
import yaml

from bandmate.cli import main
from bandmate.data.medleydb import scan_medleydb
from bandmate.data.pairs import PRESETS, Pair, PairSpec, build_pair, resolve_spec
from bandmate.errors import BandmateError
from tests.conftest import MEDLEYDB_METADATA


def songs_with_stem_instrument(label: str) -> set[str]:
    """Fixture songs with a stem labelled exactly `label`, read straight from the YAML."""
    found = set()
    for path in MEDLEYDB_METADATA.glob("*_METADATA.yaml"):
        stems = yaml.safe_load(path.read_text())["stems"].values()
        if any(s["instrument"] in (label, [label]) for s in stems):
            found.add(path.name.removesuffix("_METADATA.yaml"))
    return found


def pairs_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict]:
    assert (
        main(["pairs", "--dataset", "medleydb", "--root", str(MEDLEYDB_METADATA), *args, "--json"])
        == 0
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {row["song"]: row for row in rows}


def test_drums_to_all_lists_every_song_with_a_drum_set(capsys: pytest.CaptureFixture[str]):
    rows = pairs_json(capsys, "--preset", "drums-to-all")
    assert set(rows) == songs_with_stem_instrument("drum set")
    acdc = rows["AcDc_BackInBlack"]
    assert acdc["input_stems"] == ["AcDc_BackInBlack_STEM_05.wav"]
    # Main System (S01) carries the drums' bleed: never a target.
    assert acdc["target_stems"] == [f"AcDc_BackInBlack_STEM_0{i}.wav" for i in (2, 3, 4, 6)]
    assert set(acdc) == {
        "song",
        "split",
        "input_stems",
        "target_stems",
        "input_instruments",
        "target_instruments",
    }


def test_mixed_stem_with_the_input_instrument_is_neither_input_nor_target(
    capsys: pytest.CaptureFixture[str],
):
    rows = pairs_json(capsys, "--preset", "drums-to-all")
    aerosmith = rows["Aerosmith_LoveInAnElevator"]
    assert aerosmith["input_stems"] == ["Aerosmith_LoveInAnElevator_STEM_01.wav"]
    assert "Aerosmith_LoveInAnElevator_STEM_04.wav" not in aerosmith["target_stems"]
    assert aerosmith["target_instruments"] == [
        ["electric bass"],
        ["distorted electric guitar"],
        ["male singer", "vocalists"],
    ]


def test_instrumental_drops_vocals_and_bass_keeps_only_bass(capsys: pytest.CaptureFixture[str]):
    inst = pairs_json(capsys, "--preset", "drums-to-instrumental")["AcDc_BackInBlack"]
    assert inst["target_stems"] == [f"AcDc_BackInBlack_STEM_0{i}.wav" for i in (2, 3, 4)]
    bass = pairs_json(capsys, "--preset", "drums-to-bass")["AcDc_BackInBlack"]
    assert bass["target_stems"] == ["AcDc_BackInBlack_STEM_03.wav"]


def test_songs_without_input_are_reported_on_stderr(capsys: pytest.CaptureFixture[str]):
    main(
        [
            "pairs",
            "--dataset",
            "medleydb",
            "--root",
            str(MEDLEYDB_METADATA),
            "--preset",
            "bass-to-drums",
            "--json",
        ]
    )
    err = capsys.readouterr().err
    assert "skipped AmarLal_SpringDay1: no input stem matching 'bass'" in err


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_finds_pairs_with_disjoint_input_and_target(preset: str):
    songs, _ = scan_medleydb(MEDLEYDB_METADATA)
    pairs = [p for s in songs if isinstance(p := build_pair(s, PRESETS[preset]), Pair)]
    assert len(pairs) >= 3
    for pair in pairs:
        assert not set(pair.input_stems) & set(pair.target_stems)
        assert all("Main System" not in s.instruments for s in pair.target_stems)


def test_vocals_to_instrumental_uses_every_voice_label():
    songs = {s.song_id: s for s in scan_medleydb(MEDLEYDB_METADATA)[0]}
    pair = build_pair(songs["AHa_TakeOnMe"], PRESETS["vocals-to-instrumental"])
    assert isinstance(pair, Pair)
    assert [s.name for s in pair.input_stems] == ["AHa_TakeOnMe_STEM_02.wav"]
    assert len(pair.target_stems) == 5


def test_free_choice_with_labels_roles_and_all_but():
    songs = {s.song_id: s for s in scan_medleydb(MEDLEYDB_METADATA)[0]}
    spec = resolve_spec(None, "electric bass", "all-but:vocals,drums")
    pair = build_pair(songs["AcDc_BackInBlack"], spec)
    assert isinstance(pair, Pair)
    assert [s.name for s in pair.target_stems] == [
        "AcDc_BackInBlack_STEM_02.wav",
        "AcDc_BackInBlack_STEM_04.wav",
    ]
    assert build_pair(songs["AmarLal_SpringDay1"], PairSpec("piano", "all")) == (
        "no input stem matching 'piano'"
    )


@pytest.mark.parametrize(
    ("preset", "inp", "tgt"),
    [
        ("nope", None, None),
        (None, "drums", None),
        ("drums-to-all", "bass", None),
        (None, "all", "drums"),
    ],
)
def test_bad_spec_choices_are_user_errors(preset, inp, tgt):
    with pytest.raises(BandmateError):
        resolve_spec(preset, inp, tgt)


def test_cli_unknown_root_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(
        [
            "pairs",
            "--dataset",
            "medleydb",
            "--root",
            str(tmp_path / "nope"),
            "--preset",
            "drums-to-all",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nope" in err
