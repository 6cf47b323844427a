"""The evaluation report as the listening test sees it: examples and their trials.

A report directory holds `examples.json` (written by `bandmate evaluate`) and the audio it
names. Each example gives up to three candidates (generated, original, shuffled); a trial
plays the input mixed with one candidate, the file `files["input+<system>"]`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bandmate.errors import DataError

SYSTEMS = ("generated", "original", "shuffled")
OUTCOMES = ("music", "silence", "noise")
# Key of the automatic outcome class of each system's candidate in examples.json.
AUTOMATIC_KEYS = {
    "generated": "outcome",
    "original": "outcome_original",
    "shuffled": "outcome_shuffled",
}


@dataclass(frozen=True)
class Trial:
    """One thing to rate: the input mixed with one system's candidate.

    `trial_id` is opaque (a keyed hash): the page and the audio URL never reveal `system`.
    """

    trial_id: str
    example_id: str
    song: str
    start_s: float
    system: str
    path: Path  # absolute, checked to lie inside the report directory
    automatic_outcome: str | None  # the automatic class of this candidate, if the report has it


@dataclass(frozen=True)
class Report:
    """The trials of one report directory, by id and in report order."""

    root: Path
    trials: tuple[Trial, ...]

    def by_id(self) -> dict[str, Trial]:
        return {trial.trial_id: trial for trial in self.trials}


def load_report(root: str | Path, secret: bytes) -> Report:
    """Read `root/examples.json` and build every trial.

    Args:
        root: the report directory.
        secret: key of the trial ids (kept in the ratings database so ids stay stable).
    Raises:
        DataError: examples.json is missing or malformed, or names a file outside `root`
            or one that does not exist.
    """
    root = Path(root).resolve()
    index = root / "examples.json"
    examples = _read_examples(index)
    trials: list[Trial] = []
    seen: set[str] = set()
    for position, example in enumerate(examples):
        example_id = _example_id(index, example, position)
        if example_id in seen:
            raise DataError(index, f"example id {example_id!r} appears twice")
        seen.add(example_id)
        trials.extend(_example_trials(root, index, example, example_id, secret))
    if not trials:
        raise DataError(index, "no example has an 'input+generated/original/shuffled' file")
    return Report(root=root, trials=tuple(trials))


def trial_order(trials: tuple[Trial, ...], rater: str) -> list[Trial]:
    """The order one rater hears the trials in: shuffled, seeded by the rater id.

    The same rater gets the same order on every reload; different raters get different
    orders, so neither position nor the example's neighbours give the system away.
    """
    seed = int.from_bytes(hashlib.sha256(rater.encode()).digest()[:8], "big")
    order = sorted(trials, key=lambda trial: trial.trial_id)  # independent of report order
    random.Random(seed).shuffle(order)
    return order


def trial_id(secret: bytes, example_id: str, system: str) -> str:
    """An opaque, stable id for (example, system): 16 hex digits of an HMAC."""
    message = f"{example_id}\0{system}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


def _read_examples(index: Path) -> list[Any]:
    if not index.is_file():
        raise DataError(
            index, "not found: is this a report directory written by `bandmate evaluate`?"
        )
    try:
        data = json.loads(index.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(index, f"unreadable JSON ({error})") from None
    examples = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(examples, list):
        raise DataError(index, "expected an object with an 'examples' list")
    return examples


def _example_id(index: Path, example: Any, position: int) -> str:
    if not isinstance(example, dict) or not isinstance(example.get("id"), str) or not example["id"]:
        raise DataError(index, f"example {position} has no string 'id'")
    if not isinstance(example.get("files"), dict):
        raise DataError(index, f"example {example['id']!r} has no 'files' object")
    return str(example["id"])


def _example_trials(
    root: Path, index: Path, example: dict[str, Any], example_id: str, secret: bytes
) -> list[Trial]:
    trials = []
    for system in SYSTEMS:
        name = example["files"].get(f"input+{system}")
        if name is None:
            continue
        automatic = example.get(AUTOMATIC_KEYS[system])
        trials.append(
            Trial(
                trial_id=trial_id(secret, example_id, system),
                example_id=example_id,
                song=str(example.get("song", "")),
                start_s=float(example.get("start_s", 0.0)),
                system=system,
                path=_checked_file(root, index, name),
                automatic_outcome=automatic if automatic in OUTCOMES else None,
            )
        )
    return trials


def _checked_file(root: Path, index: Path, name: Any) -> Path:
    """The absolute path of a file named in examples.json, which must lie inside `root`."""
    if not isinstance(name, str) or not name or Path(name).is_absolute():
        raise DataError(index, f"file entry {name!r} is not a path relative to the report")
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise DataError(index, f"file entry {name!r} points outside the report directory")
    if not path.is_file():
        raise DataError(path, "audio file named in examples.json not found")
    return path
