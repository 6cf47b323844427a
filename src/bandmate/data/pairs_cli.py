"""`bandmate pairs`: list the input/target pairs of a dataset (metadata only)."""

from __future__ import annotations

import argparse
import json
import sys

from bandmate.data.datasets import READERS, scan_dataset
from bandmate.data.pairs import PRESETS, Pair, build_pair, resolve_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        required=True,
        choices=sorted(READERS),
        help="layout of the dataset under --root",
    )
    parser.add_argument(
        "--root", required=True, help="dataset root (for MedleyDB also a Metadata/ folder)"
    )
    parser.add_argument("--preset", choices=list(PRESETS), help="a named input/target choice")
    parser.add_argument(
        "--input",
        dest="input_spec",
        help="input instrument label or role (drums, bass, vocals, other)",
    )
    parser.add_argument(
        "--target",
        dest="target_spec",
        help="target: labels/roles, 'all' or 'all-but:SPEC' (comma-separated)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per song on stdout (default: a table)"
    )


def run(args: argparse.Namespace) -> int:
    spec = resolve_spec(args.preset, args.input_spec, args.target_spec)
    songs, skipped = scan_dataset(args.dataset, args.root)
    pairs: list[Pair] = []
    for song in songs:
        pair = build_pair(song, spec)
        if isinstance(pair, Pair):
            pairs.append(pair)
        else:
            print(f"skipped {song.song_id}: {pair}", file=sys.stderr)
    for item in skipped:
        print(f"skipped {item.song_id}: {item.reason}", file=sys.stderr)
    for pair in pairs:
        if args.json:
            print(json.dumps(pair.as_json()))
        else:
            print(
                f"{pair.split:5}  {pair.song.song_id}: {len(pair.input_stems)} input, "
                f"{len(pair.target_stems)} target stems"
            )
    print(f"{len(pairs)} pairs from {len(songs) + len(skipped)} songs", file=sys.stderr)
    return 0
