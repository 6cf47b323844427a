"""Model checkpoints: safetensors round trip, tokenizer files, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bandmate.checkpoint import load_checkpoint, save_model
from bandmate.errors import DataError
from bandmate.model.config import preset_config
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout


def test_round_trip(tmp_path: Path) -> None:
    layout = TokenLayout("flatten", 16, 2, 8, 4, 6)
    torch.manual_seed(0)
    model = T5(preset_config("tiny", layout.vocab_size, dropout=0.0)).eval()
    tokens_root = tmp_path / "tokens"
    tokens_root.mkdir()
    (tokens_root / "centroids.npy").write_bytes(b"x")
    manifest = {"semantic": {"spec": "kmeans", "state": "centroids.npy"}, "codec": {"spec": "c"}}
    save_model(tmp_path / "ckpt", model, layout, manifest, tokens_root, meta={"step": 3})
    loaded, loaded_layout, meta = load_checkpoint(tmp_path / "ckpt")
    assert loaded_layout == layout
    assert meta["step"] == 3 and meta["manifest"] == manifest
    assert (meta["tokenizer_dir"] / "centroids.npy").read_bytes() == b"x"
    enc = torch.randint(2, layout.vocab_size, (1, 5))
    dec = torch.randint(2, layout.vocab_size, (1, 7))
    torch.testing.assert_close(loaded(enc, dec), model(enc, dec), rtol=0, atol=0)
    assert not list((tmp_path / "ckpt").glob("*.pickle")) and not list(
        (tmp_path / "ckpt").glob("*.pt")
    )


def test_missing_checkpoint_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"model\.json"):
        load_checkpoint(tmp_path)


def _saved(directory: Path) -> Path:
    layout = TokenLayout("flatten", 16, 2, 8, 4, 6)
    save_model(directory, T5(preset_config("tiny", layout.vocab_size)), layout)
    return directory


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"model\.safetensors: unreadable or truncated weights"),
        ("other-model", r"model\.safetensors: weights do not fit model\.json"),
        ("bad-config", r"model\.json: not a model this version builds \(d_model: must be"),
        ("no-layout", r"model\.json: not a model this version builds \(no 'layout' entry\)"),
        ("bad-manifest", r"tokens\.json: malformed JSON"),
    ],
)
def test_a_damaged_checkpoint_is_one_error_naming_the_file(
    tmp_path: Path, damage: str, message: str
) -> None:
    directory = _saved(tmp_path / "ckpt")
    weights, model_json = directory / "model.safetensors", directory / "model.json"
    info = json.loads(model_json.read_text())
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "other-model":
        other = TokenLayout("flatten", 16, 2, 8, 4, 6)
        save_model(tmp_path / "other", T5(preset_config("mini", other.vocab_size)), other)
        weights.write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    elif damage == "bad-config":
        model_json.write_text(json.dumps({**info, "model": {**info["model"], "d_model": 0}}))
    elif damage == "no-layout":
        model_json.write_text(json.dumps({k: v for k, v in info.items() if k != "layout"}))
    else:
        (directory / "tokens.json").write_text("{oops")
    with pytest.raises(DataError, match=message):
        load_checkpoint(directory)
