"""`bandmate export CHECKPOINT OUT`: a checkpoint's inference files, without training state."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="checkpoint directory, or a run directory (its best)")
    parser.add_argument("out", help="folder to write (replaced as a whole)")
    parser.add_argument(
        "--half", action="store_true", help="store the weights as float16 (half the size)"
    )
    parser.add_argument(
        "--guidance",
        type=float,
        help="classifier-free guidance weight that generate/evaluate use by default "
        "(the model must have been trained with augment.input_dropout)",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        help="accompaniments that generate draws at a time (keeping the best) by default; "
        "without it, the source's own number, else 8",
    )


def run(args: argparse.Namespace) -> int:
    from bandmate.checkpoint import export_checkpoint

    source = export_checkpoint(args.checkpoint, args.out, args.half, args.guidance, args.candidates)
    print(f"exported {source} -> {args.out}")
    return 0
