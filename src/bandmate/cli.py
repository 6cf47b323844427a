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


def add_codec_command(sub: argparse._SubParsersAction) -> None:
    from bandmate.codec.cli import add_arguments

    parser = sub.add_parser(
        "codec",
        help="train the project's neural audio codec, or reconstruct audio with one",
        description="The project's own EnCodec-style codec (4 codebooks x 1024 at 75 Hz, "
        "24 kHz): `train` fits one on a folder of audio, `reconstruct` encodes and decodes a file.",
    )
    add_arguments(parser)


# Each entry registers one subcommand; stages add theirs here.
COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    add_pairs_command,
    add_codec_command,
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
