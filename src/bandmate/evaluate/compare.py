"""`bandmate evaluate --compare A B ...`: reports side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bandmate.errors import DataError
from bandmate.evaluate.report import SUMMARY_KEYS
from bandmate.io import atomic_write_text


def read_metrics(report: str | Path) -> dict[str, Any]:
    path = Path(report) / "metrics.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise DataError(path, "not an evaluation report (no metrics.json)") from None
    except json.JSONDecodeError as error:
        raise DataError(path, f"malformed JSON ({error.msg})") from None


def compare_table(reports: Sequence[str | Path]) -> str:
    """A Markdown table: one row per report, the metrics.json keys as columns."""
    rows = [(Path(r).name or str(r), read_metrics(r)) for r in reports]
    head = "| report | " + " | ".join(SUMMARY_KEYS) + " |"
    rule = "|---" * (len(SUMMARY_KEYS) + 1) + "|"
    lines = [head, rule]
    for name, metrics in rows:
        cells = [_cell(metrics.get(key)) for key in SUMMARY_KEYS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3f}"
    return "–" if value is None else str(value)


def write_comparison(reports: Sequence[str | Path], out: str | Path | None) -> str:
    """Print-ready table; also written to OUT/comparison.md when `out` is given."""
    table = compare_table(reports)
    if out is not None:
        atomic_write_text(Path(out) / "comparison.md", table)
    return table
