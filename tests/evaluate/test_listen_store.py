"""The ratings database: WAL mode, one row per (rater, trial), stable secret, CSV export."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from bandmate.errors import DataError
from bandmate.evaluate.listen.report import load_report
from bandmate.evaluate.listen.store import CSV_COLUMNS, RatingStore, export_csv
from tests.evaluate.test_listen_report import write_fake_report


def test_wal_mode_and_stable_secret(tmp_path: Path) -> None:
    store = RatingStore(tmp_path / "r.sqlite")
    secret = store.secret()
    assert len(secret) == 32
    assert RatingStore(tmp_path / "r.sqlite").secret() == secret
    assert RatingStore(tmp_path / "other.sqlite").secret() != secret
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_save_replaces_a_raters_earlier_rating(tmp_path: Path) -> None:
    store = RatingStore(tmp_path / "r.sqlite")
    trials = load_report(write_fake_report(tmp_path / "rep", n_examples=1), store.secret()).trials
    store.save("ana", trials[0], "music", 4, position=2)
    store.save("ana", trials[1], "noise", 1, position=1)
    store.save("bo", trials[0], "silence", 2, position=3)
    store.save("ana", trials[0], "noise", 2, position=2)
    rows = {(r.rater, r.trial_id): r for r in store.ratings()}
    assert len(rows) == 3
    assert (rows[("ana", trials[0].trial_id)].outcome, rows[("ana", trials[0].trial_id)].fit) == (
        "noise",
        2,
    )
    assert rows[("bo", trials[0].trial_id)].system == trials[0].system
    assert store.rated_trials("ana") == {trials[0].trial_id, trials[1].trial_id}
    assert store.rated_trials("nobody") == set()


def test_database_rejects_out_of_range_values(tmp_path: Path) -> None:
    store = RatingStore(tmp_path / "r.sqlite")
    trial = load_report(write_fake_report(tmp_path / "rep", n_examples=1), store.secret()).trials[0]
    with pytest.raises(sqlite3.IntegrityError):
        store.save("ana", trial, "loud", 3, position=1)
    with pytest.raises(sqlite3.IntegrityError):
        store.save("ana", trial, "music", 6, position=1)
    assert store.ratings() == []


def test_export_csv(tmp_path: Path) -> None:
    store = RatingStore(tmp_path / "r.sqlite")
    report = load_report(write_fake_report(tmp_path / "rep", n_examples=2), store.secret())
    for position, trial in enumerate(report.trials, start=1):
        store.save("ana", trial, "music", position % 5 + 1, position)
    count = export_csv(store.ratings(), report.by_id(), tmp_path / "out" / "ratings.csv")
    with (tmp_path / "out" / "ratings.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) == 6
    assert tuple(rows[0]) == CSV_COLUMNS
    by_trial = {row["trial_id"]: row for row in rows}
    first = report.trials[0]
    assert by_trial[first.trial_id]["system"] == first.system
    assert by_trial[first.trial_id]["automatic_outcome"] == first.automatic_outcome
    assert by_trial[first.trial_id]["song"] == "Song0"
    assert sorted(int(row["fit"]) for row in rows) == sorted(p % 5 + 1 for p in range(1, 7))


def test_unopenable_database_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "notadb.sqlite").write_text("this is not sqlite" * 100)
    with pytest.raises(DataError, match=r"notadb\.sqlite"):
        RatingStore(tmp_path / "notadb.sqlite")
