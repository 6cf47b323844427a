"""A checkpoint's own number of candidates (`bandmate export --candidates`) is what
`bandmate generate` draws at a time unless --candidates says otherwise."""

import json
from pathlib import Path

import soundfile as sf

from bandmate.cli import main
from tests.tiny import music


def _exported(flatten_checkpoint: Path, tmp_path: Path, candidates: int) -> tuple[Path, Path]:
    """(a 1 s input, the tiny checkpoint exported with `--candidates candidates`)."""
    src = tmp_path / "in.wav"
    sf.write(src, music(1.0, 16000), 16000)
    exported = tmp_path / "exported"
    args = ["export", str(flatten_checkpoint), str(exported), "--candidates", str(candidates)]
    assert main(args) == 0
    return src, exported


def _report(checkpoint: Path, src: Path, out: Path, *extra: str) -> dict:
    """generation.json of `bandmate generate src` with `checkpoint`."""
    args = ["generate", str(src), "--checkpoint", str(checkpoint), "--out", str(out), *extra]
    assert main(args) == 0
    return dict(json.loads((out / "generation.json").read_text()))


def _drawn(checkpoint: Path, src: Path, out: Path, *extra: str) -> tuple[int, int]:
    """(candidates drawn at a time as generation.json records it, candidates scored)."""
    report = _report(checkpoint, src, out, *extra)
    return report["settings"]["candidates"], len(report["candidates"])


def test_the_report_names_the_limit_that_follows_the_checkpoints_candidates(
    flatten_checkpoint: Path, tmp_path: Path
):
    # Without --max-candidates the limit is 4 x the checkpoint's number; generation.json
    # says so rather than leaving it to be worked out.
    src, exported = _exported(flatten_checkpoint, tmp_path, 2)
    settings = _report(exported, src, tmp_path / "o")["settings"]
    assert (settings["candidates"], settings["max_candidates"]) == (2, 8)


def test_exported_candidates_are_the_default_and_can_be_overridden(
    flatten_checkpoint: Path, tmp_path: Path
):
    src, exported = _exported(flatten_checkpoint, tmp_path, 3)
    meta = json.loads((exported / "model.json").read_text())["meta"]
    assert meta["candidates"] == 3
    # --max-candidates equal to the batch: one batch, whatever the judge says.
    assert _drawn(exported, src, tmp_path / "a", "--max-candidates", "3") == (3, 3)
    only_two = ("--candidates", "2", "--max-candidates", "2")
    assert _drawn(exported, src, tmp_path / "b", *only_two) == (2, 2)
    # A checkpoint that names no number: 8.
    assert _drawn(flatten_checkpoint, src, tmp_path / "c", "--max-candidates", "8") == (8, 8)
    # Exporting again keeps the number unless told otherwise.
    again = tmp_path / "again"
    assert main(["export", str(exported), str(again)]) == 0
    assert json.loads((again / "model.json").read_text())["meta"]["candidates"] == 3


def test_a_limit_below_the_checkpoints_candidates_is_one_line_and_writes_nothing(
    flatten_checkpoint: Path, tmp_path: Path, capsys
):
    src, exported = _exported(flatten_checkpoint, tmp_path, 3)
    capsys.readouterr()
    out = tmp_path / "out"
    args = ["generate", str(src), "--checkpoint", str(exported), "--out", str(out)]
    assert main([*args, "--max-candidates", "2"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the loading bars
    assert error.endswith(
        f"error: {exported}: max candidates (2) is below the 3 candidates drawn at a time"
    )
    assert not (out / "generation.json").exists()
    assert main(["export", str(flatten_checkpoint), str(tmp_path / "x"), "--candidates", "0"]) == 2
    assert not (tmp_path / "x").exists()
