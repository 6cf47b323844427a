"""`bandmate evaluate`: metrics and an HTML report for a checkpoint on its test split."""

from __future__ import annotations

import argparse
import json

from bandmate.errors import BandmateError


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
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=250)
    parser.add_argument(
        "--guidance",
        type=float,
        default=0.0,
        help="classifier-free guidance weight (0 = off; the model must have been trained "
        "with augment.input_dropout)",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        default=1,
        help="accompaniments sampled per clip, the best kept (as `generate --candidates`)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="REPORT",
        help="print (and with --out write) a side-by-side table of reports",
    )


def run(args: argparse.Namespace) -> int:
    if args.compare:
        from bandmate.evaluate.compare import write_comparison

        print(write_comparison(args.compare, args.out), end="")
        return 0
    if not (args.checkpoint and args.data and args.out):
        raise BandmateError("give --checkpoint, --data and --out (or --compare REPORT ...)")
    if args.clips < 2:
        raise BandmateError("--clips must be at least 2")
    from bandmate.evaluate.run import EvaluateConfig, evaluate
    from bandmate.generate.accompanist import GenerateConfig
    from bandmate.generate.sampling import SamplingConfig

    if args.candidates < 1:
        raise BandmateError("--candidates must be at least 1")
    try:
        sampling = SamplingConfig(args.temperature, args.top_k, guidance=args.guidance)
    except ValueError as error:
        raise BandmateError(str(error)) from None
    generate = GenerateConfig(sampling, candidates=args.candidates, seed=args.seed)
    config = EvaluateConfig(args.clips, args.dataset, args.split, generate, input=args.input)
    metrics = evaluate(args.checkpoint, args.data, args.out, config, args.device)
    keys = ("token_accuracy", "input_gain", "outcome/music", "fit/chroma", "fit/rhythm", "n_clips")
    from bandmate.evaluate.report import without_nan

    print(json.dumps(without_nan({k: metrics.get(k) for k in keys})))
    print(f"report: {args.out}/index.html")
    return 0
