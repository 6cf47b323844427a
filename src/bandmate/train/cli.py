"""`bandmate train CONFIG [--set key=value ...]`: argument parsing and the call to `train`."""

from __future__ import annotations

import argparse
import json
import os

from bandmate.config import add_overrides_argument, load_config
from bandmate.train.config import TrainConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="training config YAML (see configs/thesis.yaml)")
    add_overrides_argument(parser, "steps=100 --set data.tokens=DIR")


def run(args: argparse.Namespace) -> int:
    from bandmate.train.loop import train

    config = load_config(TrainConfig, args.config, args.overrides)
    final = train(config)
    if final and int(os.environ.get("RANK", "0")) == 0:  # one line, not one per process
        print(json.dumps(final))
    return 0
