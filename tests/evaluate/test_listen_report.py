"""The listening test's view of a report: trials, opaque ids, per-rater order, file checks.

Also holds `write_fake_report`, the small report every test_listen* module builds on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from bandmate.errors import DataError
from bandmate.evaluate.listen.report import SYSTEMS, load_report, trial_id, trial_order

SECRET = b"k" * 32
AUTOMATIC = {"generated": "noise", "original": "music", "shuffled": "music"}


def _clip(seconds: float, rate_hz: int, freq_hz: float, seed: int) -> np.ndarray:
    """A tone plus a little noise [S] float32, different per seed."""
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    noise = np.random.default_rng(seed).normal(0.0, 0.02, t.shape)
    return (0.3 * np.sin(2 * np.pi * freq_hz * t) + noise).astype(np.float32)


def write_fake_report(root: Path, n_examples: int = 3, seconds: float = 1.0) -> Path:
    """A report directory in the `bandmate evaluate` format with short synthesized WAVs.

    Automatic classes: the generated clip of example 0 is silence, the others noise;
    originals and shuffled clips are music.
    """
    rate_hz = 8000
    examples = []
    for index in range(n_examples):
        example_id = f"ex{index:03d}"
        files = {}
        for seed, name in enumerate(("input", *SYSTEMS, *(f"input+{s}" for s in SYSTEMS))):
            rel = f"audio/{example_id}/{name}.wav"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(
                root / rel, _clip(seconds, rate_hz, 110.0 * (seed + 1), index * 10 + seed), rate_hz
            )
            files[name] = rel
        examples.append(
            {
                "id": example_id,
                "song": f"Song{index}",
                "start_s": 10.0 * index,
                "outcome": "silence" if index == 0 else AUTOMATIC["generated"],
                "outcome_original": AUTOMATIC["original"],
                "outcome_shuffled": AUTOMATIC["shuffled"],
                "fit/chroma": 0.1,
                "fit/rhythm": 0.2,
                "files": files,
            }
        )
    (root / "examples.json").write_text(json.dumps({"examples": examples}))
    (root / "metrics.json").write_text(json.dumps({"token_accuracy": 0.1, "n_clips": n_examples}))
    return root


Change = Callable[[list[dict[str, Any]]], object]


def _rewrite(root: Path, change: Change) -> None:
    data = json.loads((root / "examples.json").read_text())
    change(data["examples"])
    (root / "examples.json").write_text(json.dumps(data))


def test_three_trials_per_example_with_automatic_classes(tmp_path: Path) -> None:
    report = load_report(write_fake_report(tmp_path, n_examples=2), SECRET)
    assert len(report.trials) == 6
    by_example = {(t.example_id, t.system): t for t in report.trials}
    first = by_example[("ex000", "generated")]
    assert first.path == (tmp_path / "audio/ex000/input+generated.wav").resolve()
    assert first.automatic_outcome == "silence"
    assert by_example[("ex001", "generated")].automatic_outcome == "noise"
    assert by_example[("ex001", "original")].automatic_outcome == "music"
    assert by_example[("ex001", "shuffled")].start_s == 10.0


def test_trial_ids_are_opaque_stable_and_keyed(tmp_path: Path) -> None:
    report = load_report(write_fake_report(tmp_path), SECRET)
    ids = [t.trial_id for t in report.trials]
    assert len(set(ids)) == len(ids)
    for trial in report.trials:
        assert trial.system not in trial.trial_id and trial.example_id not in trial.trial_id
    again = load_report(tmp_path, SECRET)
    assert [t.trial_id for t in again.trials] == ids
    other_key = load_report(tmp_path, b"x" * 32)
    assert not set(ids) & {t.trial_id for t in other_key.trials}
    assert trial_id(SECRET, "ex000", "generated") != trial_id(SECRET, "ex000", "original")


def test_order_is_a_permutation_fixed_per_rater(tmp_path: Path) -> None:
    trials = load_report(write_fake_report(tmp_path, n_examples=4), SECRET).trials
    ana = trial_order(trials, "ana")
    assert sorted(t.trial_id for t in ana) == sorted(t.trial_id for t in trials)
    assert trial_order(trials, "ana") == ana
    orders = {tuple(t.trial_id for t in trial_order(trials, f"rater{i}")) for i in range(5)}
    assert len(orders) > 1
    # The report order is not kept: the first example's three systems do not lead.
    assert [t.trial_id for t in ana] != [t.trial_id for t in trials]


def test_missing_candidate_is_left_out(tmp_path: Path) -> None:
    write_fake_report(tmp_path, n_examples=2)
    _rewrite(tmp_path, lambda ex: ex[1]["files"].pop("input+shuffled"))
    report = load_report(tmp_path, SECRET)
    assert len(report.trials) == 5
    assert ("ex001", "shuffled") not in {(t.example_id, t.system) for t in report.trials}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ex: ex[0]["files"].update({"input+generated": "../outside.wav"}), "outside"),
        (lambda ex: ex[0]["files"].update({"input+generated": "/etc/passwd"}), "relative"),
        (lambda ex: ex[0]["files"].update({"input+generated": "audio/none.wav"}), "not found"),
        (lambda ex: ex[1].update({"id": "ex000"}), "twice"),
        (lambda ex: ex[0].pop("id"), "no string 'id'"),
        (lambda ex: [e["files"].clear() for e in ex], "no example"),
    ],
)
def test_bad_examples_json_is_a_data_error(tmp_path: Path, change: Change, message: str) -> None:
    write_fake_report(tmp_path, n_examples=2)
    (tmp_path.parent / "outside.wav").write_bytes(b"RIFF")
    _rewrite(tmp_path, change)
    with pytest.raises(DataError, match=message):
        load_report(tmp_path, SECRET)


def test_symlink_out_of_the_report_is_refused(tmp_path: Path) -> None:
    report = write_fake_report(tmp_path / "report", n_examples=1)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF")
    (report / "audio/link.wav").symlink_to(secret)
    _rewrite(report, lambda ex: ex[0]["files"].update({"input+original": "audio/link.wav"}))
    with pytest.raises(DataError, match="outside"):
        load_report(report, SECRET)


def test_missing_or_broken_index(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"examples\.json: not found"):
        load_report(tmp_path, SECRET)
    (tmp_path / "examples.json").write_text("{not json")
    with pytest.raises(DataError, match="unreadable JSON"):
        load_report(tmp_path, SECRET)
    (tmp_path / "examples.json").write_text("[]")
    with pytest.raises(DataError, match="'examples' list"):
        load_report(tmp_path, SECRET)
