"""`bandmate listen` on the command line: --export, errors in one line, and a real server
process answering on loopback."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bandmate.cli import main
from bandmate.evaluate.listen.report import load_report
from bandmate.evaluate.listen.store import RatingStore
from tests.evaluate.test_listen_report import write_fake_report
from tests.evaluate.test_listen_server import http

SRC = Path(__file__).resolve().parents[2] / "src"


def test_export_writes_the_ratings_and_exits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_dir = write_fake_report(tmp_path / "report", n_examples=1)
    store = RatingStore(report_dir / "ratings.sqlite")  # the default --db
    trials = load_report(report_dir, store.secret()).trials
    store.save("ana", trials[0], "music", 5, position=1)
    store.save("bo", trials[1], "noise", 1, position=3)
    out = tmp_path / "ratings.csv"
    assert main(["listen", str(report_dir), "--export", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["rater"], r["system"], r["outcome"], r["fit"]) for r in rows] == [
        ("ana", trials[0].system, "music", "5"),
        ("bo", trials[1].system, "noise", "1"),
    ]
    assert "wrote 2 ratings" in capsys.readouterr().err


def test_export_with_another_db(tmp_path: Path) -> None:
    report_dir = write_fake_report(tmp_path / "report", n_examples=1)
    db = tmp_path / "elsewhere.sqlite"
    store = RatingStore(db)
    store.save("ana", load_report(report_dir, store.secret()).trials[2], "silence", 3, position=1)
    out = tmp_path / "ratings.csv"
    assert main(["listen", str(report_dir), "--db", str(db), "--export", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "not a directory"),
        (["{report}", "--export", "{tmp}/x.csv"], "no ratings database"),
        (["{report}", "--port", "70000"], "--port 70000"),
        (["{empty}"], "examples.json: not found"),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    report_dir = write_fake_report(tmp_path / "report", n_examples=1)
    (tmp_path / "empty").mkdir()
    names = {
        "missing": tmp_path / "nope",
        "report": report_dir,
        "tmp": tmp_path,
        "empty": tmp_path / "empty",
    }
    assert main(["listen", *(a.format(**names) for a in args)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bandmate listen: error:") and message in err and "\n" not in err
    assert not (tmp_path / "x.csv").exists()
    assert not (tmp_path / "empty" / "ratings.sqlite").exists()


def test_help_documents_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["listen", "--help"])
    text = capsys.readouterr().out
    for option in ("REPORTDIR", "--port", "--host", "--db", "--export"):
        assert option in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_process_answers_on_loopback(tmp_path: Path) -> None:
    report_dir = write_fake_report(tmp_path / "report", n_examples=1)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "bandmate", "listen", str(report_dir), "--port", str(port)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        reply = None
        deadline = time.monotonic() + 30  # interpreter and server start; slow on a busy machine
        while reply is None and time.monotonic() < deadline:
            try:
                reply = http(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.1)
        assert reply is not None and reply.status == 200 and "3 short clips" in reply.text
        assert (report_dir / "ratings.sqlite").is_file()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"http://127.0.0.1:{port}/" in (process.stderr.read() if process.stderr else "")
