"""The public Python API: the README's example runs, and gives what the CLI writes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import bandmate
from bandmate.cli import main
from bandmate.generate.accompanist import Accompanist, GenerateConfig
from tests.tiny import music

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    """The README's one Python block."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1, "the README should hold exactly one Python example"
    return blocks[0]


def test_the_readme_example_runs(
    flatten_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = readme_example()
    assert len(code.strip().splitlines()) <= 8
    sf.write(tmp_path / "my_bass.wav", music(2.0, 22050), 22050)
    # The shipped model's name stays in the example; the tiny checkpoint answers for it.
    load = Accompanist.from_checkpoint
    monkeypatch.setattr(
        Accompanist, "from_pretrained", classmethod(lambda cls, name: load(flatten_checkpoint))
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {})
    written, rate = sf.read(tmp_path / "my_bass_drums.wav")
    assert rate == 22050 and written.shape == (2 * 22050,)


def test_generate_returns_what_the_cli_writes(flatten_checkpoint: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.wav"
    sf.write(src, music(1.5, 16000, channels=2), 16000)
    args = ["generate", str(src), "--checkpoint", str(flatten_checkpoint), "--seed", "3"]
    assert main([*args, "--candidates", "2", "--max-candidates", "2", "--out",
                 str(tmp_path / "cli")]) == 0  # fmt: skip
    written, _ = sf.read(tmp_path / "cli" / "accompaniment.wav", dtype="float32")
    audio, rate = sf.read(src, dtype="float32")  # [S, C]
    acc = bandmate.Accompanist.from_pretrained(flatten_checkpoint)
    config = GenerateConfig(candidates=2, max_candidates=2, seed=3)
    accompaniment, out_rate = acc.generate(audio, rate, config)
    assert out_rate == 16000 and accompaniment.shape == written.shape
    np.testing.assert_allclose(accompaniment, written, atol=1 / 2**15)  # the WAV's 16 bits
    # The channels-first layout gives the same.
    same, _ = acc.generate(audio.T, rate, config)
    np.testing.assert_array_equal(same, accompaniment)
