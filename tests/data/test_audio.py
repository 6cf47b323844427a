from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bandmate.data.audio import (
    audio_info,
    check_audio,
    load_mono,
    mix_audio_stems,
    peak_normalize,
    read_audio,
    write_wav,
)
from bandmate.errors import DataError
from tests.conftest import tone


def test_stereo_44k_to_mono_16k(tmp_path: Path):
    path = tmp_path / "x.flac"
    sf.write(path, np.stack([tone(1.0, 44100, 440), tone(1.0, 44100, 440)], axis=1), 44100)
    mono = load_mono(path, 16000)
    assert mono.shape == (16000,) and mono.dtype == np.float32
    assert abs(np.max(np.abs(mono)) - 0.3) < 0.02


def test_read_window(tmp_path: Path):
    path = tmp_path / "x.wav"
    sf.write(path, np.arange(8000, dtype=np.float32) / 8000, 8000, subtype="FLOAT")
    wav, rate = read_audio(path, start_s=0.5, duration_s=0.25)
    assert rate == 8000 and wav.shape == (1, 2000)
    assert wav[0, 0] == pytest.approx(0.5)


def test_unreadable_file_names_the_file(tmp_path: Path):
    path = tmp_path / "notaudio.wav"
    path.write_text("hello")
    with pytest.raises(DataError, match=r"notaudio\.wav: unreadable audio"):
        read_audio(path)


def test_mix_and_normalize():
    a, b = tone(1.0, 8000, 100, 0.8), tone(1.0, 8000, 100, 0.8)
    mix = mix_audio_stems([a, b])
    np.testing.assert_allclose(mix, a + b)
    assert np.max(np.abs(peak_normalize(mix))) <= 0.99 + 1e-6
    with pytest.raises(ValueError):
        mix_audio_stems([a, a[:10]])


def test_write_wav_is_atomic_and_leaves_no_temp(tmp_path: Path):
    write_wav(tmp_path / "out.wav", tone(0.5, 8000, 100), 8000)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]
    with pytest.raises(ValueError):
        write_wav(tmp_path / "bad.wav", np.zeros((2, 2, 2)), 8000)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


@pytest.mark.parametrize(
    ("fmt", "subtype"), [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("AIFF", "PCM_24")]
)
def test_a_file_cut_short_of_its_header_is_refused(tmp_path: Path, fmt: str, subtype: str):
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, np.stack([tone(2.0, 8000, 220)] * 2, axis=1), 8000, subtype, format=fmt)
    assert audio_info(path) == (8000, 16000, 2)  # whole, it passes
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 3 // 4])
    with pytest.raises(DataError, match=r"x\.\w+: truncated audio: its header states 2\.00 s"):
        read_audio(path)


def test_a_streamed_wav_without_a_length_is_read_to_its_end(tmp_path: Path):
    path = tmp_path / "stream.wav"
    sf.write(path, tone(1.0, 8000, 220), 8000)
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = b"\xff\xff\xff\xff"  # what a writer that never finished leaves
    path.write_bytes(bytes(data))
    assert read_audio(path)[0].shape == (1, 8000)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("nan", r"2 sample\(s\) are not numbers \(NaN or infinity\), the first at 0\.250 s"),
        ("short", r"too short \(0\.10 s; at least 0\.5 s needed\)"),
        ("silent", r"input is silent \(digital silence, below -60 dBFS\)"),
        ("quiet", r"input is silent \(-70 dBFS, below -60 dBFS\)"),
    ],
)
def test_check_audio_names_the_first_problem(change: str, message: str):
    wav = tone(1.0, 8000, 220)[None]  # [1, S]
    check_audio("in.wav", wav, 8000, 0.5, -60.0)  # loud and long: fine
    if change == "nan":  # loud, but NaN is not silence
        wav[0, [2000, 4000]] = np.nan
    elif change == "short":
        wav = wav[:, :800]
    elif change == "silent":
        wav = np.zeros_like(wav)
    else:
        wav = wav * 10 ** (-70 / 20) / np.sqrt(np.mean(wav**2))
    with pytest.raises(DataError, match=rf"^in\.wav: {message}"):
        check_audio("in.wav", wav, 8000, 0.5, -60.0)
