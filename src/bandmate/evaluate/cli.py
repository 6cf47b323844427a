"""`bandmate evaluate`: metrics and an HTML report for a checkpoint on its test split."""

from __future__ import annotations

import argparse
import json

from bandmate.errors import BandmateError
from bandmate.generate.cli import add_sampling_arguments, generate_config
from bandmate.generate.defaults import DEFAULT_BATCHES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", help="checkpoint directory")
    parser.add_argument("--data", help="dataset root (the layout the checkpoint was trained on)")
    parser.add_argument("--out", help="report folder (metrics.json, clips.csv, index.html)")
    parser.add_argument(
        "--clips", type=int, default=108, help="test clips to generate for (the thesis judged 108)"
    )
    parser.add_argument("--dataset", help="dataset layout of --data (default: the checkpoint's)")
    parser.add_argument(
        "--split",
        default="test",
        choices=("train", "valid", "test", "all"),
        help="split to evaluate on (never train for reported figures); `all` for a dataset "
        "none of whose songs was trained on",
    )
    parser.add_argument(
        "--input",
        default="",
        metavar="LABELS",
        help="input stems by label or role instead of the checkpoint's, e.g. tuba,bassoon "
        "(out-of-distribution tests); the target stays the checkpoint's",
    )
    # generate's defaults: the report gives the first candidate of each clip (a single
    # try, the headline) and the one generate keeps, side by side; `--candidates 1
    # --max-candidates 1` draws single tries only.
    add_sampling_arguments(parser, None, DEFAULT_BATCHES)
    parser.add_argument(
        "--no-panel",
        action="store_true",
        help="skip the judge panel and the rule baseline (faster; no panel/ figures)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="REPORT",
        help="print (and with --out write) a side-by-side table of reports",
    )


def run(args: argparse.Namespace) -> int:
    if args.out:  # before any work: a file of that name would fail only at the end
        from bandmate.io import check_out_dir

        check_out_dir(args.out)
    if args.compare:
        from bandmate.evaluate.compare import write_comparison

        print(write_comparison(args.compare, args.out), end="")
        return 0
    if not (args.checkpoint and args.data and args.out):
        raise BandmateError("give --checkpoint, --data and --out (or --compare REPORT ...)")
    if args.clips < 2:
        raise BandmateError("--clips must be at least 2")
    from bandmate.evaluate.run import EvaluateConfig, evaluate

    generate = generate_config(args)
    config = EvaluateConfig(
        args.clips, args.dataset, args.split, generate, input=args.input, panel=not args.no_panel
    )
    metrics = evaluate(args.checkpoint, args.data, args.out, config, args.device)
    keys = (
        "token_accuracy",
        "input_gain",
        "single/outcome/music",
        "single/fit/chroma",
        "single/fit/rhythm",
        "single/panel/role_plausible",
        "single/panel/beat_f",
        "kept/outcome/music",
        "candidates_drawn",
        "n_clips",
    )
    from bandmate.evaluate.report import without_nan

    print(json.dumps(without_nan({k: metrics.get(k) for k in keys})))
    print(f"report: {args.out}/index.html")
    return 0
