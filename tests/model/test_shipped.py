"""Shipped models: the `bandmate:PRESET` names, and `generate` without --checkpoint."""

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file

from bandmate import checkpoint_files as shipped
from bandmate.checkpoint import load_checkpoint, resolve_checkpoint
from bandmate.cli import main
from bandmate.errors import BandmateError
from tests.tiny import music


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "assets"
    root.mkdir()
    monkeypatch.setattr(shipped, "assets_root", lambda: root)
    return root


def test_unknown_name_lists_what_ships(assets: Path, delay_checkpoint: Path):
    shutil.copytree(delay_checkpoint, assets / "drums-to-bass")
    assert resolve_checkpoint("bandmate:drums-to-bass") == assets / "drums-to-bass"
    with pytest.raises(BandmateError, match=r"bandmate:nope: .*shipped: bandmate:drums-to-bass"):
        resolve_checkpoint("bandmate:nope")
    with pytest.raises(BandmateError, match="no shipped model"):
        resolve_checkpoint("bandmate:../drums-to-bass")


def test_generate_without_checkpoint_or_out_uses_the_shipped_default(
    assets: Path, delay_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shutil.copytree(delay_checkpoint, assets / shipped.DEFAULT_PRESET)
    monkeypatch.chdir(tmp_path)
    sf.write(tmp_path / "riff.wav", music(3.0, 22050), 22050)
    assert main(["generate", "riff.wav"]) == 0
    out = tmp_path / "bandmate-out" / "riff"
    report = json.loads((out / "generation.json").read_text())
    assert report["checkpoint"] == f"bandmate:{shipped.DEFAULT_PRESET}"
    assert sf.info(out / "accompaniment.wav").duration == pytest.approx(3.0, abs=0.01)


def test_export_keeps_what_inference_needs(flatten_checkpoint: Path, tmp_path: Path, capsys):
    out = tmp_path / "lean"
    (flatten_checkpoint / "optimizer.pt").write_bytes(b"state")  # as a training run leaves
    try:
        assert main(["export", str(flatten_checkpoint), str(out)]) == 0
    finally:
        (flatten_checkpoint / "optimizer.pt").unlink()
    assert not (out / "optimizer.pt").exists()
    assert {"model.safetensors", "model.json", "tokens.json", "tokenizer"} <= {
        p.name for p in out.iterdir()
    }
    assert resolve_checkpoint(out) == out
    half = tmp_path / "half"
    assert main(["export", str(flatten_checkpoint), str(half), "--half"]) == 0
    stored = load_file(str(half / "model.safetensors"))
    assert {v.dtype for v in stored.values()} == {torch.float16}
    model, _, _ = load_checkpoint(half)
    reference, _, _ = load_checkpoint(flatten_checkpoint)
    expected = reference.state_dict()
    for name, weight in model.state_dict().items():
        assert weight.dtype == torch.float32, name
        torch.testing.assert_close(weight, expected[name], rtol=1e-3, atol=1e-4)
    assert main(["export", str(tmp_path / "nothing"), str(tmp_path / "x")]) == 2
    assert "model.json" in capsys.readouterr().err and not (tmp_path / "x").exists()
