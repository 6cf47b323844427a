"""Metrics: one JSON line per record in RUN/metrics.jsonl (slash names), TensorBoard too
when it is installed, and PNG curves of loss and accuracy against step (thesis Figs 5.1-5.12).
Records and plots are the training toolkit's (train/toolkit.py), shared with the codec.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from bandmate.train.toolkit import plot_series, read_records, series, write_records

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"


class MetricsLog:
    """Appends records to metrics.jsonl; mirrors scalars to TensorBoard if available."""

    def __init__(self, run_dir: str | Path, resume_step: int = 0) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            # a resumed run rewrites what came after its checkpoint
            write_records(
                self.path, [r for r in read_metrics(self.path) if r["step"] <= resume_step]
            )
        self.writer: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(run_dir) / "tensorboard"))
        except ImportError:
            log.debug("tensorboard not installed; metrics go to %s only", self.path)

    def write(self, step: int, values: dict[str, float]) -> None:
        record = {"step": step, **values}
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All records of a metrics.jsonl file."""
    return read_records(path)


PLOTS = {
    "loss.png": ("loss", ["train/loss", "valid/loss"]),
    "accuracy.png": ("token accuracy", ["train/accuracy", "valid/accuracy"]),
    "accuracy_parts.png": (
        "token accuracy by part",
        ["train/accuracy/semantic", "train/accuracy/acoustic",
         "valid/accuracy/semantic", "valid/accuracy/acoustic"],
    ),
}  # fmt: skip


def plot_curves(metrics_path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write loss.png, accuracy.png and accuracy_parts.png of a metrics.jsonl file.

    Returns:
        the PNG paths written (a plot with no data is skipped, and all of them without
        matplotlib).
    """
    curves = series(read_metrics(metrics_path))
    targets = [(Path(out_dir) / name, ylabel, names) for name, (ylabel, names) in PLOTS.items()]
    return [path for path, ylabel, names in targets if plot_series(curves, names, path, ylabel)]
