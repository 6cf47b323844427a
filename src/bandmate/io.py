"""Atomic writes: every output is written to a temporary name and renamed into place,
so an interrupted or failed run never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def usual_mode(path: str | Path) -> None:
    """Give a file or folder made by `tempfile` (owner-only, 0600/0700) the permissions
    a plain `open` or `mkdir` would have given it under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    full = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, full & ~mask)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        usual_mode(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_out_dir(path: str | Path, setting: str = "--out") -> None:
    """Refuse, before any work, an output folder that could never be written: a file of
    that name, a file where one of its parent folders should be, or a parent that is not
    writable (`BandmateError` naming `setting`, the flag or key that chose the folder)."""
    from bandmate.errors import BandmateError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BandmateError(f"{setting} {path}: exists and is not a folder; choose another")
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise BandmateError(f"{setting} {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise BandmateError(f"{setting} {path}: {ancestor} is not writable")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def read_format_json(path: str | Path, expected_format: str, missing: str) -> dict[str, Any]:
    """Read a JSON object tagged `"format": expected_format` (checkpoints, token sets,
    tokenizer state); `DataError` naming the file when it is absent, malformed or foreign.

    Args:
        path: the JSON file.
        expected_format: the value its `format` key must hold.
        missing: the problem to report when the file does not exist.
    """
    from bandmate.errors import DataError

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(path, missing) from None
    except json.JSONDecodeError as error:
        raise DataError(path, f"malformed JSON ({error.msg})") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        found = data.get("format") if isinstance(data, dict) else None
        raise DataError(path, f"unknown format {found!r}, expected {expected_format}")
    return data


def replace_dir(source: str | Path, target: str | Path) -> None:
    """Rename folder `source` onto `target`; an older `target` is removed only once the
    rename has succeeded, so a crash leaves either the old folder or the new one."""
    source, target = Path(source), Path(target)
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)
