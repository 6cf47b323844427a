"""Training checkpoints: model checkpoint + what a resume needs, written atomically.

    RUN/checkpoints/step-0001000/   model files (see bandmate.checkpoint), plus
        config.yaml                 the resolved training config
        optimizer.pt                optimizer state (tensors only: loads with weights_only)
        trainer.json                step, validation loss
        rng-rank<R>.safetensors     each process's torch RNG state (dropout)
    RUN/checkpoints/index.json      validation loss per checkpoint, last and best
    RUN/checkpoints/last, best      symlinks to those directories

A checkpoint is built under a temporary name and renamed into place; older ones beyond
`keep_last` are deleted, except the best by validation loss.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from bandmate.checkpoint import load_checkpoint, read_weights, save_model, tokenizer_files
from bandmate.checkpoint_files import WEIGHTS
from bandmate.config import save_config
from bandmate.errors import ConfigError, DataError
from bandmate.io import atomic_write_text, replace_dir
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout
from bandmate.train.config import TrainConfig
from bandmate.train.toolkit import restore_rng, rng_state

log = logging.getLogger(__name__)

INDEX = "index.json"


def checkpoint_root(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def staging_dir(run_dir: str | Path, step: int) -> Path:
    return checkpoint_root(run_dir) / f".tmp-step-{step:07d}"


def write_rng(directory: Path, rank: int) -> None:
    """Each process writes its own RNG state into the staging directory."""
    save_file(rng_state(), str(directory / f"rng-rank{rank}.safetensors"))


def write_checkpoint(
    staging: Path,
    model: T5,
    weights: dict[str, torch.Tensor],
    optim_state: dict[str, Any],
    layout: TokenLayout,
    config: TrainConfig,
    tokens: tuple[dict[str, Any], Path],
    trainer: dict[str, Any],
) -> None:
    """Fill the staging directory (main process; RNG files are written by each process).

    Args:
        weights, optim_state: the whole model and optimizer state (see distributed.full_state).
        tokens: the token manifest and the token directory it came from.
    """
    manifest, tokens_root = tokens
    save_model(staging, model, layout, manifest, tokens_root, meta=trainer, state=weights)
    save_config(config, staging / "config.yaml")
    torch.save(optim_state, staging / "optimizer.pt")
    atomic_write_text(staging / "trainer.json", json.dumps(trainer, indent=2) + "\n")


def _symlink(root: Path, name: str, target: str) -> None:
    tmp = root / f".{name}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, root / name)


def read_index(run_dir: str | Path) -> dict[str, Any]:
    path = checkpoint_root(run_dir) / INDEX
    if not path.exists():
        return {"checkpoints": {}, "last": None, "best": None}
    return dict(json.loads(path.read_text()))


def publish(
    run_dir: Path, staging: Path, step: int, valid_loss: float | None, keep_last: int
) -> Path:
    """Move a finished staging directory into place, update the index, prune old ones."""
    root = checkpoint_root(run_dir)
    name = f"step-{step:07d}"
    replace_dir(staging, root / name)
    index = read_index(run_dir)
    losses: dict[str, float | None] = index["checkpoints"]
    losses[name] = valid_loss if valid_loss is not None and math.isfinite(valid_loss) else None
    scored = {k: v for k, v in losses.items() if v is not None}
    best = min(scored, key=lambda k: scored[k]) if scored else None
    keep = set(sorted(losses)[-max(1, keep_last) :]) | ({best} if best else set())
    for old in sorted(set(losses) - keep):
        shutil.rmtree(root / old, ignore_errors=True)
        del losses[old]
    index.update(last=name, best=best)
    atomic_write_text(root / INDEX, json.dumps(index, indent=2) + "\n")
    _symlink(root, "last", name)
    if best:
        _symlink(root, "best", best)
    return root / name


def last_checkpoint(run_dir: str | Path) -> Path | None:
    name = read_index(run_dir).get("last")
    path = checkpoint_root(run_dir) / name if name else None
    return path if path is not None and path.is_dir() else None


def load_training_state(
    directory: Path, rank: int
) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """Read weights, optimizer state and trainer.json; restore this process's RNG.

    Returns:
        (weights, optimizer state, trainer.json) for distributed.load_full_state.
    """
    try:
        trainer = json.loads((directory / "trainer.json").read_text())
        weights = read_weights(directory / WEIGHTS)
        optim_state = torch.load(directory / "optimizer.pt", weights_only=True, map_location="cpu")
    except FileNotFoundError as error:
        raise DataError(error.filename or directory, "incomplete checkpoint") from None
    rng_file = directory / f"rng-rank{rank}.safetensors"
    if rng_file.exists():
        restore_rng(load_file(str(rng_file)))
    else:
        log.warning("%s: no RNG state for rank %d; dropout will differ", directory, rank)
    return weights, optim_state, dict(trainer)


def initial_weights(
    spec: str, model: T5, layout: TokenLayout, data_root: Path, manifest: dict[str, Any]
) -> dict[str, torch.Tensor]:
    """The weights of checkpoint `spec` (`init`: fine-tuning), float32, after checking that
    they fit: the same model config, the same token layout, and tokens made with the same
    semantic tokenizer (other k-means clusters would give every input id another meaning).
    """
    loaded, init_layout, meta = load_checkpoint(spec)
    where = meta["checkpoint"]
    ours, theirs = dataclasses.asdict(model.config), dataclasses.asdict(loaded.config)
    # Dropout is a training setting, not part of the architecture: fine-tuning may change it.
    differ = sorted(name for name in ours if name != "dropout" and theirs.get(name) != ours[name])
    if differ:
        raise ConfigError(
            f"init {where}: its model differs from this config's ({', '.join(differ)})"
        )
    if init_layout != layout:
        raise ConfigError(f"init {where}: its token layout {init_layout} differs from the tokens'")
    if meta["tokenizer_dir"] is not None:
        for name in tokenizer_files(manifest, data_root):
            here, there = data_root / name, meta["tokenizer_dir"] / name
            if here.is_file() and (not there.is_file() or here.read_bytes() != there.read_bytes()):
                raise ConfigError(
                    f"init {where}: {data_root} was tokenized with another semantic tokenizer "
                    f"({name} differs); copy {meta['tokenizer_dir']}/* into the token folder "
                    "before tokenizing"
                )
    return {name: tensor.float() for name, tensor in loaded.state_dict().items()}
