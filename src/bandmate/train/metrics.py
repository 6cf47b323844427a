"""Metrics: one JSON line per record in RUN/metrics.jsonl (slash names), TensorBoard too
when it is installed, and PNG curves of loss and accuracy against step (thesis Figs 5.1-5.12).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"


class MetricsLog:
    """Appends records to metrics.jsonl; mirrors scalars to TensorBoard if available."""

    def __init__(self, run_dir: str | Path, resume_step: int = 0) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            # a resumed run rewrites what came after its checkpoint
            kept = [r for r in read_metrics(self.path) if r["step"] <= resume_step]
            self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))
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
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def curves(records: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    """Metric name -> (steps, values), in file order."""
    out: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for record in records:
        for name, value in record.items():
            if name != "step" and isinstance(value, int | float):
                out[name][0].append(int(record["step"]))
                out[name][1].append(float(value))
    return dict(out)


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
        the PNG paths written (a plot with no data is skipped).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bandmate.io import atomic_path

    series = curves(read_metrics(metrics_path))
    written: list[Path] = []
    for filename, (ylabel, names) in PLOTS.items():
        present = [n for n in names if n in series]
        if not present:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        for name in present:
            steps, values = series[name]
            ax.plot(steps, values, label=name, marker="o" if len(steps) < 20 else None)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        target = Path(out_dir) / filename
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        written.append(target)
    return written
