"""The `bandmate` command line: one subcommand per stage.

Each subcommand parses its arguments and calls one library function. User errors
(`BandmateError`) are printed as one line and exit with status 2; bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bandmate import __version__
from bandmate.errors import BandmateError

Handler = Callable[[argparse.Namespace], int]


def add_pairs_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.data.pairs_cli import add_arguments, run

    parser = sub.add_parser(
        "pairs",
        help="list input/target stem pairs of a dataset",
        description="List, per song, the input stems and target stems of a "
        "preset or of a free --input/--target choice. Reads metadata only.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_train_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.train.cli import add_arguments, run

    parser = sub.add_parser(
        "train",
        help="train the T5 encoder-decoder on token shards",
        description="Train (or resume) a run from a YAML config: metrics.jsonl, curves "
        "and checkpoints go to the config's `out` directory. Several processes: "
        "torchrun --nproc-per-node N -m bandmate train CONFIG.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_generate_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.generate.cli import add_arguments, run

    parser = sub.add_parser(
        "generate",
        help="generate the accompaniment of a recording",
        description="Write accompaniment.wav, mix.wav and generation.json "
        "for an input recording (or each file of a folder).",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_tokenize_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.tokens.cli import add_arguments, run

    parser = sub.add_parser(
        "tokenize",
        help="turn a dataset into token shards (semantic ids + codec codes)",
        description="Pairs -> clips -> tokens for a whole dataset: fits the semantic "
        "tokenizer on the input clips, encodes targets with the acoustic codec, and writes "
        "memory-mappable shards with a manifest. Resumable: rerun the same command.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_evaluate_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.evaluate.cli import add_arguments, run

    parser = sub.add_parser(
        "evaluate",
        help="metrics and an HTML report of a checkpoint on held-out clips",
        description="Generate for test clips and measure token accuracy, outcome classes "
        "(music/silence/noise) and fit to the input against the original and a shuffled "
        "accompaniment; writes metrics.json, clips.csv, examples.json and index.html.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_synth_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.synth.cli import add_arguments, run

    parser = sub.add_parser(
        "synth",
        help="render a multitrack dataset from MIDI (MedleyDB layout), offline",
        description="Render N songs (procedural bands, Bach chorales, folk tunes) with a "
        "General MIDI SoundFont, one stem per instrument, plus the MIDI of every stem and a "
        "manifest. Same seed, same bytes.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_listen_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.evaluate.listen.cli import add_arguments, run

    parser = sub.add_parser(
        "listen",
        help="serve a blind listening test of an evaluation report",
        description="Serve a local web page where raters hear the input mixed with each "
        "candidate (generated, original, shuffled; order randomised, source hidden), mark it "
        "music/silence/noise and rate its fit 1-5. Ratings go to an SQLite database; "
        "/results summarizes them; --export writes them as CSV.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def add_demo_command(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo",
        help="the whole loop offline on a CPU: synth, tokenize, train, evaluate",
        description="Render a small dataset, tokenize it with the shipped codec, train a "
        "small model from scratch, evaluate it on held-out songs and print the report's path. "
        "Resumable: a second run reuses finished stages.",
    )
    parser.add_argument("--config", help="YAML with DemoConfig fields (see bandmate/demo.py)")
    parser.add_argument("--out", help="output folder (default runs/demo)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set train.steps=100",
    )
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from bandmate.demo import load_demo_config, run_demo

    overrides = [*args.set, *([f"out={args.out}"] if args.out else [])]
    run_demo(load_demo_config(args.config, overrides))
    return 0


# Each entry registers one subcommand, in pipeline order; stages add theirs here.
COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    add_synth_command,
    add_pairs_command,
    add_tokenize_command,
    add_train_command,
    add_generate_command,
    add_evaluate_command,
    add_listen_command,
    add_demo_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bandmate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"bandmate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except BandmateError as error:
        print(f"bandmate {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bandmate {args.command}: interrupted", file=sys.stderr)
        return 130
