from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bandmate.codec.checkpoint import write_checkpoint_dir
from bandmate.io import atomic_path, atomic_write_text


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_atomic_files_get_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "a.txt", "hi")
    (tmp_path / "plain.txt").write_text("hi")
    assert mode(tmp_path / "a.txt") == mode(tmp_path / "plain.txt") == 0o644


@pytest.mark.usefixtures("umask_022")
def test_atomic_folders_get_the_permissions_of_a_plain_mkdir(tmp_path: Path) -> None:
    write_checkpoint_dir(tmp_path / "ckpt", lambda tmp: (tmp / "x").write_text("x"))
    assert mode(tmp_path / "ckpt") == 0o755


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.wav") as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
