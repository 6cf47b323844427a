"""Codec checkpoint directories: `config.json` + `model.safetensors`, never pickle.

    DIR/config.json          {"format": "bandmate-codec/1", "model": CodecConfig fields}
    DIR/model.safetensors    encoder, decoder and codebook tensors
    DIR/train/...            optional training state (see train.py), ignored when loading

A directory is written under a temporary name and renamed into place, so a reader never
sees half a checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from bandmate.codec.model import CodecConfig, CodecModel
from bandmate.config import from_dict
from bandmate.errors import BandmateError
from bandmate.io import replace_dir, usual_mode

FORMAT = "bandmate-codec/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
# Fields of the removed SEANet network, which the config of every earlier codec holds.
SEANET_FIELDS = ("channels", "dilations")


def config_to_dict(config: CodecConfig) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }


def write_checkpoint_dir(
    path: str | Path, fill: Callable[[Path], None], keep_existing: tuple[str, ...] = ()
) -> None:
    """Create directory `path` atomically: `fill(tmp_dir)` writes its files, then the
    temporary directory replaces any old one. Entries named in `keep_existing` are
    carried over from the old directory when `fill` did not write them."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        fill(tmp)
        for name in keep_existing:
            if (target / name).exists() and not (tmp / name).exists():
                os.replace(target / name, tmp / name)
        usual_mode(tmp)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_model_files(
    folder: Path, model: CodecModel, extra: dict[str, Any] | None = None, half: bool = False
) -> None:
    """Write config.json and model.safetensors of `model` into an existing folder.

    With `half`, encoder and decoder weights are stored as float16 (half the file). The
    quantizer stays float32: its entries decide which code a latent gets.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {
            k: v.half() if v.is_floating_point() and not k.startswith("quantizer.") else v
            for k, v in state.items()
        }
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": FORMAT})
    payload = {"format": FORMAT, "model": config_to_dict(model.config), **(extra or {})}
    (folder / CONFIG_FILE).write_text(json.dumps(payload, indent=2) + "\n")


def save_codec(path: str | Path, model: CodecModel, extra: dict[str, Any] | None = None) -> None:
    """Write a codec checkpoint directory atomically (any training state is kept)."""
    write_checkpoint_dir(path, lambda tmp: write_model_files(tmp, model, extra), ("train",))


def export_codec(source: str | Path, out: str | Path, half: bool = False) -> None:
    """Write the inference files of checkpoint `source` (config.json with its training
    facts, model.safetensors, curves.png if any) to `out`, without training state."""
    if Path(out).resolve() == Path(source).resolve():
        raise BandmateError(f"{out}: is the checkpoint being exported; pick another OUT")
    model = load_model(source)
    extra = {k: v for k, v in read_config(source).items() if k not in ("format", "model")}
    curves = Path(source) / "curves.png"

    def fill(tmp: Path) -> None:
        write_model_files(tmp, model, extra, half)
        if curves.is_file():
            shutil.copy(curves, tmp / curves.name)

    write_checkpoint_dir(out, fill)


def read_config(path: str | Path) -> dict[str, Any]:
    """The parsed config.json of a checkpoint directory (BandmateError if unusable)."""
    folder = Path(path)
    config_path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise BandmateError(f"{folder}: codec checkpoint directory not found")
    try:
        data = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise BandmateError(f"{config_path}: codec config missing") from None
    except json.JSONDecodeError as error:
        raise BandmateError(f"{config_path}: malformed JSON ({error.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BandmateError(f"{config_path}: not a {FORMAT} codec config")
    return data


def saved_settings(settings: Any, where: str | Path) -> Any:
    """A codec config as a checkpoint or a run's state saved it, as this version reads it:
    without the fields of the removed SEANet network, which every earlier one holds.

    Raises:
        BandmateError: naming `where` for a SEANet codec itself (its `architecture` is
            seanet, or missing as in the first checkpoints).
    """
    if not isinstance(settings, dict):
        return settings
    if settings.get("architecture", "seanet") == "seanet":
        raise BandmateError(
            f"{where}: a SEANet codec, the network the stft one replaced, which this version "
            "no longer runs; use bandmate:default or train an stft codec"
        )
    return {k: v for k, v in settings.items() if k not in SEANET_FIELDS}


def load_model(path: str | Path) -> CodecModel:
    """Build a CodecModel from a checkpoint directory, in eval mode on CPU."""
    folder = Path(path)
    where = folder / CONFIG_FILE
    settings = saved_settings(read_config(folder).get("model"), where)
    try:
        model = CodecModel(from_dict(CodecConfig, settings, str(where)))
    except (KeyError, TypeError, ValueError) as error:
        raise BandmateError(f"{where}: invalid codec config ({error})") from None
    weights = folder / WEIGHTS_FILE
    try:
        state = load_file(str(weights))
    except FileNotFoundError:
        raise BandmateError(f"{weights}: codec weights missing") from None
    except (SafetensorError, OSError) as error:
        raise BandmateError(f"{weights}: unreadable safetensors ({error})") from None
    # Shipped weights may be stored as float16 to halve the file; compute in float32.
    state = {k: v.float() if v.dtype == torch.float16 else v for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        reason = str(error).splitlines()[0]
        raise BandmateError(f"{weights}: weights do not fit the config ({reason})") from None
    return model.eval()


def state_dict_to_tensors(prefix: str, state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Flatten a nested optimizer state into safetensors-ready `prefix.a.b` tensors."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            out.update(state_dict_to_tensors(name, value))
        elif isinstance(value, torch.Tensor):
            out[name] = value.detach().cpu().contiguous()
    return out
