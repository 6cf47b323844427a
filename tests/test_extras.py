"""Optional dependencies: a command that needs one that is missing says, in one line,
which extra installs it (`pip install 'bandmate[listen]'`, `[synth]`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bandmate.cli import main, missing_extra


def test_listen_without_its_server_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` fails as if absent
    assert main(["listen", str(tmp_path), "--port", "8123"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "bandmate listen: error: uvicorn is not installed; pip install 'bandmate[listen]'"


def test_only_optional_modules_are_turned_into_a_line() -> None:
    assert missing_extra(ModuleNotFoundError(name="music21.corpus")) == (
        "music21 is not installed; pip install 'bandmate[synth]'"
    )
    assert missing_extra(ModuleNotFoundError(name="torch")) is None  # a broken install
