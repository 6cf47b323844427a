"""A checkpoint's own guidance weight (`bandmate export --guidance`) is generation's default."""

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from bandmate.cli import main
from tests.tiny import music


def _with_dropout(checkpoint: Path, root: Path, dropout: float) -> Path:
    """A copy of `checkpoint` whose training config says it had this input dropout."""
    copy = root / f"trained-dropout-{dropout}"
    shutil.copytree(checkpoint, copy)
    (copy / "config.yaml").write_text(yaml.safe_dump({"augment": {"input_dropout": dropout}}))
    return copy


def _generate(checkpoint: Path, src: Path, out: Path, *extra: str) -> tuple[np.ndarray, float]:
    # --max-candidates 8: the first batch of the default 8 says all this test asks.
    args = ["generate", str(src), "--checkpoint", str(checkpoint), "--out", str(out)]
    assert main([*args, "--max-candidates", "8", *extra]) == 0
    report = json.loads((out / "generation.json").read_text())
    return sf.read(out / "accompaniment.wav")[0], report["settings"]["sampling"]["guidance"]


def test_exported_guidance_is_the_default_and_can_be_overridden(
    flatten_checkpoint: Path, tmp_path: Path
):
    src = tmp_path / "in.wav"
    sf.write(src, music(1.5, 16000), 16000)
    trained = _with_dropout(flatten_checkpoint, tmp_path, 0.2)
    exported = tmp_path / "exported"
    assert main(["export", str(trained), str(exported), "--guidance", "2"]) == 0
    assert json.loads((exported / "model.json").read_text())["meta"]["guidance"] == 2.0
    default, used = _generate(exported, src, tmp_path / "a")
    asked, asked_used = _generate(trained, src, tmp_path / "b", "--guidance", "2")
    off, off_used = _generate(exported, src, tmp_path / "c", "--guidance", "0")
    assert (used, asked_used, off_used) == (2.0, 2.0, 0.0)
    np.testing.assert_array_equal(default, asked)
    assert not np.array_equal(default, off)


def test_guidance_is_refused_for_a_model_trained_without_input_dropout(
    flatten_checkpoint: Path, tmp_path: Path, capsys
):
    trained = _with_dropout(flatten_checkpoint, tmp_path, 0.0)
    assert main(["export", str(trained), str(tmp_path / "x"), "--guidance", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "config.yaml" in err and "input_dropout" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()
    assert main(["export", str(trained), str(tmp_path / "y"), "--guidance", "-1"]) == 2
    assert main(["export", str(trained), str(tmp_path / "z"), "--guidance", "0"]) == 0
