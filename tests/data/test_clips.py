from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bandmate.data.clips import ClipConfig, SkipCounter, iter_clips
from bandmate.data.medleydb import scan_medleydb
from bandmate.data.pairs import PRESETS, Pair, build_pair
from bandmate.errors import DataError
from tests.conftest import tone


def drums_to_bass(root: Path, song_id: str = "SlowGhost_Peanut") -> Pair:
    song = next(s for s in scan_medleydb(root)[0] if s.song_id == song_id)
    pair = build_pair(song, PRESETS["drums-to-bass"])
    assert isinstance(pair, Pair)
    return pair


def test_clips_are_windows_of_the_summed_stems(medleydb_root: Path):
    pair = drums_to_bass(medleydb_root)
    clips = list(iter_clips(pair, ClipConfig(clip_seconds=1.0, hop_seconds=0.5)))
    assert [c.start_s for c in clips] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert all(c.input.shape == (8000,) and c.target.shape == (8000,) for c in clips)
    expected, _ = sf.read(pair.input_stems[0].path, dtype="float32")
    np.testing.assert_allclose(clips[1].input, expected[4000:12000], atol=1e-4)


def test_resampling_to_consumer_rates(medleydb_root: Path):
    clip = next(iter_clips(drums_to_bass(medleydb_root), ClipConfig(clip_seconds=1.0)))
    source, target = clip.at_rate(16000)
    assert source.shape == target.shape == (16000,)
    assert clip.at_rate(24000)[0].shape == (24000,)


def test_silent_windows_are_skipped_and_counted(medleydb_root: Path):
    pair = drums_to_bass(medleydb_root)
    wav = tone(3.0, 8000, 55.0)
    wav[8000:16000] = 0.0  # second 1-2 of the bass is silent
    sf.write(pair.target_stems[0].path, wav, 8000)
    skips = SkipCounter()
    clips = list(iter_clips(pair, ClipConfig(clip_seconds=1.0), skips))
    assert [c.start_s for c in clips] == [0.0, 2.0]
    assert skips.counts == {"silent target": 1}


def test_stems_of_different_rates_or_lengths_name_the_file(medleydb_root: Path):
    pair = drums_to_bass(medleydb_root)
    path = pair.target_stems[0].path
    sf.write(path, tone(3.0, 16000, 55.0), 16000)
    with pytest.raises(DataError, match=f"{path.name}.*sample rate 16000"):
        list(iter_clips(pair, ClipConfig(clip_seconds=1.0)))
    sf.write(path, tone(2.0, 8000, 55.0), 8000)
    with pytest.raises(DataError, match="length 16000 samples differs"):
        list(iter_clips(pair, ClipConfig(clip_seconds=1.0)))


def test_missing_or_truncated_stem_is_a_data_error(medleydb_root: Path):
    pair = drums_to_bass(medleydb_root)
    path = pair.input_stems[0].path
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # header says 3 s, file holds half
    with pytest.raises(DataError, match=path.name):
        list(iter_clips(pair, ClipConfig(clip_seconds=1.0)))
    path.unlink()
    with pytest.raises(DataError, match="audio file not found"):
        list(iter_clips(pair, ClipConfig(clip_seconds=1.0)))


def test_short_song_yields_nothing_and_says_why(medleydb_root: Path):
    skips = SkipCounter()
    assert (
        list(iter_clips(drums_to_bass(medleydb_root), ClipConfig(clip_seconds=10.0), skips)) == []
    )
    assert skips.counts == {"song shorter than 10 s": 1}
