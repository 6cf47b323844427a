"""Errors a user can cause; the CLI prints them as one line and exits non-zero.

Internal bugs raise ordinary exceptions and keep their tracebacks.
"""

from __future__ import annotations

from pathlib import Path


class BandmateError(Exception):
    """A problem with the user's input, reported in one line."""


class DataError(BandmateError):
    """A file of a dataset (metadata or audio) is missing, unreadable or inconsistent."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ConfigError(BandmateError):
    """A config file or `--set` override is malformed."""
