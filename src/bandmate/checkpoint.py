"""Checkpoints: everything generation needs of a trained model, in one directory of
safetensors weights and JSON, never pickle.

    DIR/model.safetensors   the weights
    DIR/model.json          format tag, model config, token layout, meta (step, valid
                            loss, the sampling defaults `guidance` and `candidates`)
    DIR/tokens.json         the token manifest (codec spec, semantic tokenizer spec/state)
    DIR/tokenizer/...       files the manifest names (e.g. k-means centroids), copied

This bundle ties the model (bandmate.model) to its tokens (bandmate.tokens), so it lies
above both; finding a checkpoint by name is below them (bandmate.checkpoint_files).
Training adds its own files beside these (config.yaml, optimizer state); `load_checkpoint`
needs only the ones above, so generation never imports training code. A missing,
truncated or foreign file among them is a `DataError` naming it, never a raw traceback.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from bandmate.checkpoint_files import (
    MANIFEST,
    MODEL_JSON,
    TOKENIZER_DIR,
    WEIGHTS,
    resolve_checkpoint,
)
from bandmate.errors import BandmateError, DataError
from bandmate.io import atomic_path, atomic_write_text, read_format_json, replace_dir
from bandmate.model.config import T5Config
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout

FORMAT = "bandmate-checkpoint/1"


def tokenizer_files(manifest: dict[str, Any], tokens_root: Path) -> list[str]:
    """Relative paths of the files and folders (e.g. the semantic tokenizer's state folder)
    that the manifest's `semantic`/`codec` entries name in the token dir."""
    found: list[str] = []
    for section in ("semantic", "codec"):
        entry = manifest.get(section)
        values = entry.values() if isinstance(entry, dict) else []
        for value in values:
            if isinstance(value, str) and value and (tokens_root / value).exists():
                found.append(value)
    return found


def save_model(
    directory: str | Path,
    model: T5,
    layout: TokenLayout,
    manifest: dict[str, Any] | None = None,
    tokens_root: str | Path | None = None,
    meta: dict[str, Any] | None = None,
    state: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write weights, model.json, tokens.json and tokenizer files into `directory`.

    Args:
        directory: created if needed; the caller makes the whole directory atomic.
        model: the model (unwrapped from DDP); weights are saved in their dtype.
        layout: the token layout the model was trained on.
        manifest: the token directory's manifest, copied as tokens.json.
        tokens_root: the token directory, to copy the files the manifest names.
        meta: extra JSON facts (step, validation loss, ...).
        state: the full weights when `model` holds only a shard (FSDP); default its own.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = state if state is not None else model.state_dict()
    state = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    with atomic_path(directory / WEIGHTS) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT})
    info = {
        "format": FORMAT,
        "model": dataclasses.asdict(model.config),
        "layout": layout.to_dict(),
        "meta": meta or {},
    }
    atomic_write_text(directory / MODEL_JSON, json.dumps(info, indent=2) + "\n")
    if manifest is not None:
        atomic_write_text(directory / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        if tokens_root is not None:
            for rel in tokenizer_files(manifest, Path(tokens_root)):
                source, target = Path(tokens_root) / rel, directory / TOKENIZER_DIR / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.is_dir():
                    shutil.copytree(source, target, dirs_exist_ok=True)
                else:
                    shutil.copy2(source, target)


def read_model_json(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MODEL_JSON
    return read_format_json(path, FORMAT, "not a checkpoint directory (no model.json)")


def read_weights(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; a missing, truncated or corrupt one is a
    `DataError` naming it."""
    try:
        return load_file(str(path), device=str(device))
    except FileNotFoundError:
        raise DataError(path, "checkpoint weights missing") from None
    except (SafetensorError, OSError) as error:
        raise DataError(path, f"unreadable or truncated weights ({_gist(error)})") from None


def _gist(error: BaseException) -> str:
    """An exception's message on one short line."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def load_checkpoint(
    directory: str | Path, device: str | torch.device = "cpu"
) -> tuple[T5, TokenLayout, dict[str, Any]]:
    """Load a checkpoint for inference; `directory` may also be a training run directory.

    Returns:
        (model in eval mode on `device`, token layout, meta) where meta holds the
        model.json `meta` entries plus `manifest` (tokens.json, or None) and
        `tokenizer_dir` (the copied tokenizer files' folder, or None) and `checkpoint`
        (the directory actually loaded).
    """
    directory = resolve_checkpoint(directory)
    info = read_model_json(directory)
    try:
        # expand_settings: a model.json of older versions may name a removed field
        config = T5Config(**T5Config.expand_settings(info["model"]))
        layout = TokenLayout(**info["layout"])
        meta = dict(info.get("meta") or {})
    except (KeyError, TypeError, ValueError, BandmateError) as error:
        problem = f"no {error.args[0]!r} entry" if isinstance(error, KeyError) else _gist(error)
        where = directory / MODEL_JSON
        raise DataError(where, f"not a model this version builds ({problem})") from None
    # Built on the CPU, not the meta device: random init of a few million weights takes
    # milliseconds, while initialising meta tensors imports torch._dynamo (3-5 s a start).
    model = T5(config)
    state = read_weights(directory / WEIGHTS, device)
    # Weights stored as float16 (`export --half`) compute in float32, as trained.
    state = {k: v.float() if v.dtype == torch.float16 else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:  # missing or extra tensors, or other shapes
        problem = f"weights do not fit {MODEL_JSON} ({_gist(error)})"
        raise DataError(directory / WEIGHTS, problem) from None
    model.to(device).eval()
    manifest_path = directory / MANIFEST
    meta["manifest"] = _read_json(manifest_path) if manifest_path.exists() else None
    tokenizer_dir = directory / TOKENIZER_DIR
    meta["tokenizer_dir"] = tokenizer_dir if tokenizer_dir.is_dir() else None
    meta["checkpoint"] = directory
    return model, layout, meta


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(path, f"malformed JSON ({_gist(error)})") from None


# What inference needs of a checkpoint, plus the training config for the record.
INFERENCE_FILES = (WEIGHTS, MODEL_JSON, MANIFEST, "config.yaml")


def export_checkpoint(
    source: str | Path,
    out: str | Path,
    half: bool = False,
    guidance: float | None = None,
    candidates: int | None = None,
) -> Path:
    """Copy a checkpoint's inference files (or those of a run's best checkpoint) into
    `out`, leaving optimizer and RNG state behind; `out` is replaced as a whole.
    `half` stores float32 weights as float16 (half the size; loading turns them back).
    `guidance` records the classifier-free guidance weight that generation uses when
    none is asked for (model.json meta `guidance`); the source must have been trained
    with input dropout (its config.yaml `augment.input_dropout` > 0). `candidates`
    records how many accompaniments generation draws at a time when none is asked for
    (meta `candidates`). Either left None keeps the source's own, if any.

    Returns:
        the checkpoint directory that was exported.
    """
    source, out = resolve_checkpoint(source), Path(out)
    info = read_model_json(source)  # fails with one line on a non-checkpoint
    if guidance is not None:
        _check_guidance(source, guidance)
    if candidates is not None and candidates < 1:
        raise DataError(source, f"candidates must be at least 1, got {candidates}")
    defaults = {
        key: value
        for key, value in (("guidance", guidance), ("candidates", candidates))
        if value is not None
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp:
        staging = Path(tmp) / "export"
        staging.mkdir()
        for name in INFERENCE_FILES:
            if (source / name).is_file() and not (half and name == WEIGHTS):
                shutil.copy2(source / name, staging / name)
        if defaults:
            info["meta"] = {**info.get("meta", {}), **defaults}
            (staging / MODEL_JSON).write_text(json.dumps(info, indent=2) + "\n")
        if half:
            state = read_weights(source / WEIGHTS)
            state = {k: v.half() if v.dtype == torch.float32 else v for k, v in state.items()}
            save_file(state, str(staging / WEIGHTS), metadata={"format": FORMAT})
        if (source / TOKENIZER_DIR).is_dir():
            shutil.copytree(source / TOKENIZER_DIR, staging / TOKENIZER_DIR)
        replace_dir(staging, out)
    return source


def _check_guidance(source: Path, guidance: float) -> None:
    """Guidance needs a model that has learned the null input; refuse it otherwise."""
    if not math.isfinite(guidance) or guidance < 0:
        raise DataError(source, f"guidance must be a finite number >= 0, got {guidance:g}")
    config_path = source / "config.yaml"
    if guidance > 0 and config_path.is_file():
        augment = (yaml.safe_load(config_path.read_text()) or {}).get("augment") or {}
        if not augment.get("input_dropout"):
            raise DataError(
                config_path, "trained without augment.input_dropout: guidance has no null input"
            )
