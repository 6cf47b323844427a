"""Models shipped inside the package, named `bandmate:PRESET` wherever a checkpoint
directory is expected (`generate --checkpoint`, `evaluate --checkpoint`, ...).

Each lives in `bandmate/assets/model/PRESET/` as an ordinary checkpoint directory; the
model card beside them (`assets/model/MODEL_CARD.md`) says how they were trained and
what they reach.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bandmate.errors import BandmateError

SPEC_PREFIX = "bandmate:"
DEFAULT_PRESET = "bass-to-drums"


def assets_root() -> Path:
    return Path(str(resources.files("bandmate") / "assets" / "model"))


def shipped_presets() -> list[str]:
    """Names of the shipped models present in this installation, sorted."""
    root = assets_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "model.json").is_file())


def is_shipped_spec(name: str | Path) -> bool:
    return str(name).startswith(SPEC_PREFIX)


def shipped_model(spec: str) -> Path:
    """Directory of the shipped model `bandmate:PRESET` (or a bare `PRESET`).

    Raises:
        BandmateError: one line listing the shipped names when there is no such model.
    """
    name = spec.removeprefix(SPEC_PREFIX)
    path = assets_root() / name
    if not name or "/" in name or not (path / "model.json").is_file():
        known = ", ".join(SPEC_PREFIX + p for p in shipped_presets()) or "none"
        raise BandmateError(f"{spec}: no shipped model of that name (shipped: {known})")
    return path
