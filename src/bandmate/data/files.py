"""Finding files under a data root, through symlinked folders too.

A data root is often a folder of links into larger data sets (a training subset, a mount
elsewhere); `Path.rglob` on Python 3.11 does not descend into linked folders, so loaders
walk with these instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def walk_files(folder: str | Path) -> Iterator[Path]:
    """Every file under `folder`, through symlinked folders, each real folder once (a link
    back up the tree is not followed round)."""
    seen: set[str] = set()
    for directory, subdirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen:
            subdirs.clear()
            continue
        seen.add(real)
        for name in names:
            path = Path(directory, name)
            if path.is_file():
                yield path


def files_named(folder: str | Path, names: Iterable[str]) -> list[Path]:
    """The files under `folder` whose name is one of `names`, sorted by path."""
    wanted = set(names)
    return sorted(p for p in walk_files(folder) if p.name in wanted)
