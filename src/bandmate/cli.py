"""The `bandmate` command line: one subcommand per stage.

Each subcommand parses its arguments and calls one library function. User errors
(`BandmateError`, or an optional dependency that is not installed) are printed as one
line and exit with status 2; bugs keep their traceback.
A stage's CLI module defines `add_arguments(parser)` and `run(args) -> int` and imports
nothing heavy (torch, transformers) at module level, so `bandmate --help` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bandmate import __version__
from bandmate.errors import BandmateError

Handler = Callable[[argparse.Namespace], int]

# Optional dependencies, by the extra that installs them (`pip install 'bandmate[EXTRA]'`):
# only `bandmate synth`'s chorale and folk sources (and `demo`, which renders them) and
# `bandmate listen` import them, never generate, evaluate or train.
EXTRAS = {"music21": "synth", "starlette": "listen", "uvicorn": "listen"}


@dataclass(frozen=True)
class Command:
    name: str
    module: str  # defines add_arguments(parser) and run(args)
    help: str  # one line in `bandmate --help`
    description: str  # the top of `bandmate NAME --help`


# In pipeline order.
COMMANDS: tuple[Command, ...] = (
    Command(
        "synth",
        "bandmate.synth.cli",
        "render a multitrack dataset from MIDI (MedleyDB layout), offline",
        "Render N songs (procedural bands, Bach chorales, folk tunes) with a "
        "General MIDI SoundFont, one stem per instrument, plus the MIDI of every stem and a "
        "manifest. Same seed, same bytes.",
    ),
    Command(
        "pairs",
        "bandmate.data.pairs_cli",
        "list input/target stem pairs of a dataset",
        "List, per song, the input stems and target stems of a "
        "preset or of a free --input/--target choice. Reads metadata only.",
    ),
    Command(
        "codec",
        "bandmate.codec.cli",
        "train the project's neural audio codec, or reconstruct audio with one",
        "The project's own EnCodec-style codec (4 codebooks x 1024 at 75 Hz, 24 kHz): `train` "
        "fits one on a folder of audio, `reconstruct` encodes and decodes a file.",
    ),
    Command(
        "tokenize",
        "bandmate.tokens.cli",
        "turn a dataset into token shards (semantic ids + codec codes)",
        "Pairs -> clips -> tokens for a whole dataset: fits the semantic "
        "tokenizer on the input clips, encodes targets with the acoustic codec, and writes "
        "memory-mappable shards with a manifest. Resumable: rerun the same command.",
    ),
    Command(
        "train",
        "bandmate.train.cli",
        "train the T5 encoder-decoder on token shards",
        "Train (or resume) a run from a YAML config: metrics.jsonl, curves "
        "and checkpoints go to the config's `out` directory. Several processes: "
        "torchrun --nproc-per-node N -m bandmate train CONFIG.",
    ),
    Command(
        "export",
        "bandmate.export_cli",
        "copy a checkpoint's inference files (no optimizer state)",
        "Copy the weights, model.json, tokens.json, tokenizer state and training config of "
        "a checkpoint (or of a training run's best checkpoint) into a folder: what "
        "`generate --checkpoint` needs, a fifth of a training checkpoint's size.",
    ),
    Command(
        "generate",
        "bandmate.generate.cli",
        "generate the accompaniment of a recording",
        "Write accompaniment.wav, mix.wav and generation.json "
        "for an input recording (or each file of a folder).",
    ),
    Command(
        "evaluate",
        "bandmate.evaluate.cli",
        "metrics and an HTML report of a checkpoint on held-out clips",
        "Generate for test clips and measure token accuracy, outcome classes "
        "(music/silence/noise) and fit to the input against the original and a shuffled "
        "accompaniment; writes metrics.json, clips.csv, examples.json and index.html.",
    ),
    Command(
        "listen",
        "bandmate.evaluate.listen.cli",
        "serve a blind listening test of an evaluation report",
        "Serve a local web page where raters hear the input mixed with each "
        "candidate (generated, original, shuffled; order randomised, source hidden), mark it "
        "music/silence/noise and rate its fit 1-5. Ratings go to an SQLite database; "
        "/results summarizes them; --export writes them as CSV.",
    ),
    Command(
        "demo",
        "bandmate.demo_cli",
        "the built-in default end to end, offline on a CPU",
        "Render songs and Bach chorales no shipped model was trained on, generate for "
        "them with each shipped model, evaluate, and print a summary table and the reports' "
        "paths. --train: the whole loop instead (synth, tokenize with the shipped codec, "
        "train a small model from scratch, evaluate). Resumable: a second run reuses "
        "finished stages.",
    ),
)


def add_command(sub: argparse._SubParsersAction, command: Command) -> None:
    module = importlib.import_module(command.module)
    parser = sub.add_parser(command.name, help=command.help, description=command.description)
    module.add_arguments(parser)
    if hasattr(module, "run"):  # else its sub-actions set their own handlers (codec)
        parser.set_defaults(handler=module.run)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` the arguments of that one command: the
    others are listed by name and help line without importing their modules (synth's
    alone takes seconds to import, which `bandmate generate` would pay on every call)."""
    parser = argparse.ArgumentParser(prog="bandmate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"bandmate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        if only is None or command.name == only:
            add_command(sub, command)
        else:
            sub.add_parser(command.name, help=command.help, description=command.description)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names: its first word that is not an option (the top-level
    options take no value), if it is a command's name."""
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return word if word in {command.name for command in COMMANDS} else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_named(argv))
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
    except ModuleNotFoundError as error:
        extra = missing_extra(error)
        if extra is None:
            raise
        print(f"bandmate {args.command}: error: {extra}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bandmate {args.command}: interrupted", file=sys.stderr)
        return 130


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one line for a missing optional dependency, naming the extra that installs
    it; None when the missing module is not one of EXTRAS (a bug or a broken install)."""
    module = (error.name or "").partition(".")[0]
    if module not in EXTRAS:
        return None
    return f"{module} is not installed; pip install 'bandmate[{EXTRAS[module]}]'"
