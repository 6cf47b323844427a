"""`bandmate demo`: the whole loop offline (see bandmate.demo)."""

from __future__ import annotations

import argparse

from bandmate.config import add_overrides_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML with DemoConfig fields (see bandmate/demo.py)")
    parser.add_argument("--out", help="output folder (default runs/demo)")
    parser.add_argument(
        "--train",
        action="store_true",
        help="train a small model from scratch first (the whole loop; `make demo TRAIN=1`) "
        "instead of evaluating the shipped models",
    )
    add_overrides_argument(parser, "train.steps=100")


def run(args: argparse.Namespace) -> int:
    from bandmate.demo import load_demo_config, run_demo

    overrides = [*args.overrides, *([f"out={args.out}"] if args.out else [])]
    overrides += ["mode=train"] if args.train else []
    run_demo(load_demo_config(args.config, overrides))
    return 0
