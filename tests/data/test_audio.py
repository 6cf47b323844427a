from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bandmate.data.audio import load_mono, mix_audio_stems, peak_normalize, read_audio, write_wav
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
