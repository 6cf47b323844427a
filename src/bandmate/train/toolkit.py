"""Plain functions both training loops use: the T5's (train/loop.py) and the codec's
(codec/train.py).

- the learning-rate schedule: a linear warm-up, then constant, cosine or rsqrt decay;
- RNG state: what a checkpoint stores so that a resumed run draws what it would have;
- metric records: one JSON object per line, `{"step": S, "slash/name": value, ...}`;
- curves: records plotted against step, as PNG.

Nothing here knows either model: each loop keeps its own config, step and files.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from bandmate.io import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

SCHEDULES = ("constant", "cosine", "rsqrt")


def schedule_factor(
    schedule: str, step: int, total_steps: int, warmup_steps: int, min_lr_ratio: float = 0.0
) -> float:
    """Multiplier of the peak rate for 1-based `step`: step / warmup_steps during the
    warm-up, then 1 (constant), a cosine from 1 at the warm-up's end down to
    `min_lr_ratio` at `total_steps` (cosine), or sqrt(warmup_steps / step) (rsqrt, T5's)."""
    if warmup_steps and step < warmup_steps:
        return step / warmup_steps
    if schedule == "cosine":
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "rsqrt":
        return math.sqrt(max(warmup_steps, 1) / max(step, 1))
    if schedule != "constant":
        raise ValueError(f"unknown schedule {schedule!r}; use one of {', '.join(SCHEDULES)}")
    return 1.0


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def rng_state() -> dict[str, torch.Tensor]:
    """This process's torch RNG state: `cpu`, and `cuda` (the current device's) when
    there is one. Dropout, random crops' gains and codebook restarts draw from them."""
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng(state: dict[str, torch.Tensor]) -> None:
    """Set what `rng_state` returned; a `cuda` entry is skipped on a machine without one."""
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """All records of a JSON-lines metrics file."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def write_records(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Write `records` as the whole JSON-lines file (atomically)."""
    atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in records))


def series(records: Iterable[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    """Metric name -> (steps, values), in record order; non-numeric entries are left out."""
    out: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for record in records:
        for name, value in record.items():
            if name != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                out[name][0].append(int(record["step"]))
                out[name][1].append(float(value))
    return dict(out)


def plot_series(
    curves: dict[str, tuple[list[int], list[float]]],
    names: Sequence[str],
    path: str | Path,
    ylabel: str = "",
    log_y: bool = False,
) -> bool:
    """Draw the `names` present in `curves` against step into the PNG `path` (written
    atomically). Returns False, writing nothing, when none is present or matplotlib is
    not installed (training goes on without plots)."""
    present = [name for name in names if name in curves]
    if not present:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib not installed: no %s", Path(path).name)
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in present:
        steps, values = curves[name]
        ax.plot(steps, values, label=name, marker="o" if len(steps) < 20 else None)
    ax.set_xlabel("step")
    if ylabel:
        ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return True
