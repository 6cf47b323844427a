"""How much the judge panel adds to `bandmate evaluate`: the issue's bar is at most 2x.

Runs one evaluation with the panel and clocks, inside the same process, every call that
exists only for the panel (madmom's analysis, the rule baseline, the per-clip figures and
the realism test). Timing within one run keeps the ratio honest on a shared machine, where
two separate runs (with and without `--no-panel`) can differ by 1.7x from load alone.

    .venv/bin/python benchmarks/panel_overhead.py --data runs/val-4242 --clips 6

Prints JSON: total seconds, panel seconds, and total / (total - panel), the factor by
which the panel lengthens evaluate.
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bandmate.evaluate import run
from bandmate.evaluate.run import EvaluateConfig, evaluate
from bandmate.metrics.panel import Panel

spent = {"panel_s": 0.0}


def clocked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, adding its wall time to `spent`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent["panel_s"] += time.perf_counter() - start

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="bandmate:bass-to-drums")
    parser.add_argument("--data", required=True, help="validation songs (never a test set)")
    parser.add_argument("--clips", type=int, default=6)
    args = parser.parse_args()
    for name in ("analyse", "clip", "realism"):
        setattr(Panel, name, clocked(getattr(Panel, name)))
    run.rule_accompaniment = clocked(run.rule_accompaniment)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        evaluate(args.checkpoint, args.data, out, EvaluateConfig(clips=args.clips, split="all"))
    total = time.perf_counter() - start
    panel = spent["panel_s"]
    print(
        json.dumps(
            {
                "checkpoint": args.checkpoint,
                "clips": args.clips,
                "total_s": round(total, 1),
                "panel_s": round(panel, 1),
                "without_panel_s": round(total - panel, 1),
                "factor": round(total / (total - panel), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
