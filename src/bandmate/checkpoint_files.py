"""Where a checkpoint's files are: their names in a checkpoint directory, the models
shipped inside the package, and `resolve_checkpoint`, which turns any name a user may
give for a checkpoint into its directory.

Nothing here reads a file's contents or imports torch, so any layer may find a
checkpoint: `bandmate tokenize` (tokens/) takes a checkpoint's tokenizer for
`semantic.reuse` from here, below `bandmate.checkpoint`, which loads the model and
imports the token layout.

The shipped models live in `bandmate/assets/model/PRESET/`, each an ordinary checkpoint
directory named `bandmate:PRESET` wherever a checkpoint is expected (`generate
--checkpoint`, `evaluate --checkpoint`, ...); the model card beside them
(`assets/model/MODEL_CARD.md`) says how they were trained and what they reach.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bandmate.errors import BandmateError, DataError

WEIGHTS = "model.safetensors"
MODEL_JSON = "model.json"
MANIFEST = "tokens.json"
TOKENIZER_DIR = "tokenizer"

SPEC_PREFIX = "bandmate:"
DEFAULT_PRESET = "bass-to-drums"


def assets_root() -> Path:
    return Path(str(resources.files("bandmate") / "assets" / "model"))


def shipped_presets() -> list[str]:
    """Names of the shipped models present in this installation, sorted."""
    root = assets_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MODEL_JSON).is_file())


def is_shipped_spec(name: str | Path) -> bool:
    return str(name).startswith(SPEC_PREFIX)


def shipped_model(spec: str) -> Path:
    """Directory of the shipped model `bandmate:PRESET` (or a bare `PRESET`).

    Raises:
        BandmateError: one line listing the shipped names when there is no such model.
    """
    name = spec.removeprefix(SPEC_PREFIX)
    path = assets_root() / name
    if not name or "/" in name or not (path / MODEL_JSON).is_file():
        known = ", ".join(SPEC_PREFIX + p for p in shipped_presets()) or "none"
        raise BandmateError(f"{spec}: no shipped model of that name (shipped: {known})")
    return path


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, a training run directory (its best, else last, checkpoint)
    or a shipped model's name, `bandmate:PRESET`.

    Raises:
        DataError: naming model.json when `path` is none of these.
    """
    if is_shipped_spec(path):
        return shipped_model(str(path))
    path = Path(path)
    if (path / MODEL_JSON).exists():
        return path
    for name in ("best", "last"):
        if (path / "checkpoints" / name / MODEL_JSON).exists():
            return (path / "checkpoints" / name).resolve()
    raise DataError(path / MODEL_JSON, "not a checkpoint directory (no model.json)")
