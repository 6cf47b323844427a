"""`bandmate train` refuses tokens of the reserved (test-only) timbres."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bandmate.cli import main
from bandmate.errors import BandmateError
from bandmate.train.config import DataConfig
from bandmate.train.data import open_token_data

from .conftest import write_tokens

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def with_timbres(tokens: Path, timbres: list[dict[str, str]] | None) -> Path:
    """Set (None: remove, as in directories tokenized before it was kept) `timbres`."""
    path = tokens / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("timbres", None)
    if timbres is not None:
        manifest.update(root="data/synth-test", timbres=timbres)
    path.write_text(json.dumps(manifest))
    return tokens


@pytest.mark.parametrize(
    "timbres",
    [None, [], [{"file": "TimGM6mb.sf2", "sha256": "82475b91" + "0" * 56}]],
    ids=["made-before-timbres-were-kept", "not-synth", "default-font"],
)
def test_tokens_of_allowed_timbres_are_trained_on(
    tmp_path: Path, timbres: list[dict[str, str]] | None
) -> None:
    tokens = with_timbres(write_tokens(tmp_path / "tokens"), timbres)
    assert len(open_token_data(DataConfig(tokens=str(tokens))).train) > 0


def test_tokens_of_a_reserved_timbre_are_refused(tmp_path: Path) -> None:
    fonts = [{"file": "TimGM6mb.sf2", "sha256": ""}, {"file": "FluidR3_GM.sf2", "sha256": ""}]
    tokens = with_timbres(write_tokens(tmp_path / "tokens"), fonts)
    with pytest.raises(BandmateError) as error:
        open_token_data(DataConfig(tokens=str(tokens)))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{tokens} (tokens of data/synth-test): rendered with FluidR3_GM")
    assert "reserved timbres are for testing only" in message


def test_cli_refuses_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fonts = [{"file": "MuseScore_General_Full.sf3", "sha256": ""}]
    tokens = with_timbres(write_tokens(tmp_path / "tokens"), fonts)
    sets = [f"data.tokens={tokens}", f"out={tmp_path / 'run'}", "steps=2", "progress=false"]
    args = ["train", str(CONFIGS / "tiny.yaml")] + [a for s in sets for a in ("--set", s)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "MuseScore_General_Full.sf3, a reserved timbre" in err[0]
    assert not (tmp_path / "run").exists()
