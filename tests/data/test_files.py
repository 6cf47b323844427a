"""Walking data roots through symlinked folders."""

from pathlib import Path

from bandmate.data.files import files_named, walk_files


def test_files_named_finds_through_links_once_each(tmp_path: Path):
    (tmp_path / "real" / "a").mkdir(parents=True)
    (tmp_path / "real" / "a" / "meta.yaml").write_text("x")
    (tmp_path / "real" / "other.yaml").write_text("x")
    root = tmp_path / "root"
    (root / "deep").mkdir(parents=True)
    (root / "deep" / "meta.yaml").write_text("x")
    (root / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (root / "link2").symlink_to(tmp_path / "real", target_is_directory=True)  # same folder
    (tmp_path / "real" / "loop").symlink_to(root, target_is_directory=True)
    found = files_named(root, ["meta.yaml"])
    assert [p.relative_to(root).as_posix() for p in found] == ["deep/meta.yaml", "link/a/meta.yaml"]
    assert len(list(walk_files(root))) == 3  # two meta.yaml and other.yaml, each once
