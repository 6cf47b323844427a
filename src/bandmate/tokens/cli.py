"""`bandmate tokenize`: a dataset -> token shards (config + `--set` overrides)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bandmate.config import add_overrides_argument, load_config
from bandmate.tokens.config import TokenizeConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", help="YAML config (e.g. configs/tokenize-synth.yaml); default: built-ins"
    )
    parser.add_argument("--out", required=True, help="token directory to write (or resume)")
    add_overrides_argument(parser, "root=data/synth --set semantic.num_clusters=256")
    parser.add_argument(
        "--workers", type=int, help="parallel worker processes (at most 2; overrides the config)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from bandmate.tokens.pipeline import tokenize_dataset

    overrides = list(args.overrides)
    if args.workers is not None:
        overrides.append(f"workers={args.workers}")
    config = load_config(TokenizeConfig, args.config, overrides)
    manifest = tokenize_dataset(config, args.out, progress=not args.no_progress)
    print_summary(manifest, args.out)
    return 0


def print_summary(manifest: dict[str, Any], out: str) -> None:
    """Clips and hours per split, then what was skipped and why (stderr)."""
    for split, info in manifest["splits"].items():
        print(
            f"{split:5}  {info['songs']:4d} songs  {info['clips']:6d} clips  {info['hours']:.2f} h"
        )
    skipped = manifest["skipped"]
    for song, reason in skipped["songs"].items():
        print(f"skipped song {song}: {reason}", file=sys.stderr)
    for reason, count in skipped["clips"].items():
        print(f"skipped {count} clip(s): {reason}", file=sys.stderr)
    total = sum(info["clips"] for info in manifest["splits"].values())
    print(
        f"{total} clips -> {out} (codec {manifest['codec']['spec']}, "
        f"semantic {manifest['semantic']['spec']})"
    )
