from __future__ import annotations

from pathlib import Path

import pytest

from bandmate.codec.data import find_audio_files
from bandmate.errors import DataError


def test_audio_files_are_found_recursively_and_sorted(audio_dir: Path) -> None:
    files = find_audio_files(audio_dir)
    assert [p.name for p in files] == [f"clip{i}.wav" for i in range(6)]
    assert files[-1].parent.name == "sub"


def test_symlinked_folders_are_followed_once(audio_dir: Path, tmp_path: Path) -> None:
    """A training set made of links into other folders; a link cycle ends the walk."""
    links = tmp_path / "links"
    links.mkdir()
    (links / "set").symlink_to(audio_dir, target_is_directory=True)
    (audio_dir / "sub" / "loop").symlink_to(audio_dir, target_is_directory=True)
    files = find_audio_files(links)
    assert sorted(p.name for p in files) == [f"clip{i}.wav" for i in range(6)]


def test_a_folder_without_audio_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no audio here")
    with pytest.raises(DataError, match="no audio files"):
        find_audio_files(tmp_path)
