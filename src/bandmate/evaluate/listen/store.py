"""Ratings in SQLite (WAL mode): one row per (rater, trial), safe under concurrent raters.

Every operation opens its own short-lived connection, so the server's worker threads never
share one; WAL lets readers run beside the single writer, and the busy timeout makes
concurrent writers wait for each other instead of failing.
"""

from __future__ import annotations

import contextlib
import csv
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bandmate.errors import DataError
from bandmate.evaluate.listen.report import Trial
from bandmate.io import atomic_path

BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (
    rater TEXT NOT NULL,
    trial_id TEXT NOT NULL,
    example_id TEXT NOT NULL,
    system TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('music', 'silence', 'noise')),
    fit INTEGER NOT NULL CHECK (fit BETWEEN 1 AND 5),
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (rater, trial_id)
);
"""

CSV_COLUMNS = (
    "rater",
    "trial_id",
    "example_id",
    "song",
    "start_s",
    "system",
    "outcome",
    "fit",
    "automatic_outcome",
    "position",
    "created_at",
)


@dataclass(frozen=True)
class Rating:
    """One stored rating. `position` is the 1-based place of the trial in the rater's order."""

    rater: str
    trial_id: str
    example_id: str
    system: str
    outcome: str
    fit: int
    position: int
    created_at: str


class RatingStore:
    """The ratings database of one listening test."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")  # persists in the file
                conn.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise DataError(self.path, f"cannot open the ratings database ({error})") from None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def secret(self) -> bytes:
        """The key of the trial ids, made on first use and kept so ids survive restarts."""
        with self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('trial_secret', ?)",
                (secrets.token_bytes(32),),
            )
            row = conn.execute("SELECT value FROM meta WHERE key = 'trial_secret'").fetchone()
        return bytes(row[0])

    def save(self, rater: str, trial: Trial, outcome: str, fit: int, position: int) -> None:
        """Store a rating; a second rating of the same trial by the same rater replaces it."""
        created_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO ratings VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (rater, trial_id) DO UPDATE SET outcome = excluded.outcome, "
                "fit = excluded.fit, created_at = excluded.created_at",
                (
                    rater,
                    trial.trial_id,
                    trial.example_id,
                    trial.system,
                    outcome,
                    fit,
                    position,
                    created_at,
                ),
            )

    def rated_trials(self, rater: str) -> set[str]:
        """Ids of the trials `rater` has rated."""
        with self._connect() as conn:
            rows = conn.execute("SELECT trial_id FROM ratings WHERE rater = ?", (rater,))
            return {row[0] for row in rows}

    def ratings(self) -> list[Rating]:
        """Every rating, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT rater, trial_id, example_id, system, outcome, fit, position, created_at "
                "FROM ratings ORDER BY created_at, rater, trial_id"
            ).fetchall()
        return [Rating(*row) for row in rows]


def export_csv(ratings: list[Rating], trials: dict[str, Trial], path: str | Path) -> int:
    """Write the ratings to a CSV file (atomically), joined with their trial's details.

    Returns:
        the number of rows written.
    """
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in csv_rows(ratings, trials):
            writer.writerow(row)
    return len(ratings)


def csv_rows(ratings: list[Rating], trials: dict[str, Trial]) -> Iterator[list[object]]:
    """One CSV row per rating, in the order of CSV_COLUMNS."""
    for rating in ratings:
        trial = trials.get(rating.trial_id)
        yield [
            rating.rater,
            rating.trial_id,
            rating.example_id,
            trial.song if trial else "",
            trial.start_s if trial else "",
            rating.system,
            rating.outcome,
            rating.fit,
            (trial.automatic_outcome or "") if trial else "",
            rating.position,
            rating.created_at,
        ]
