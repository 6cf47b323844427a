"""`bandmate generate INPUT [--checkpoint DIR_OR_SHIPPED_NAME] --out OUTDIR`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bandmate.errors import BandmateError
from bandmate.generate.defaults import DEFAULT_BATCHES, DEFAULT_CANDIDATES

if TYPE_CHECKING:
    from bandmate.generate.accompanist import GenerateConfig

# The flag that sets each field of SamplingConfig and GenerateConfig, for error messages.
FLAGS = {
    "temperature": "--temperature",
    "top_k": "--top-k",
    "top_p": "--top-p",
    "guidance": "--guidance",
    "candidates": "--candidates",
    "max_candidates": "--max-candidates",
    "overlap_seconds": "--overlap",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="an audio file (wav/flac/ogg/mp3), or a folder of them")
    parser.add_argument(
        "--checkpoint",
        default="bandmate:bass-to-drums",
        help="checkpoint or training run directory, or a shipped model: bandmate:bass-to-drums "
        "(the default), bandmate:drums-to-bass, bandmate:vocals-to-instrumental (note events), "
        "bandmate:bass-to-instrumental (codec tokens); the other kind of the first three "
        "as bandmate:bass-to-drums-codec, bandmate:drums-to-bass-codec, "
        "bandmate:bass-to-instrumental-events",
    )
    parser.add_argument(
        "--out",
        help="output folder; a folder input writes OUT/<file stem>/ per file, or "
        "OUT/<file name>/ (OUT/take.wav/, OUT/take.flac/) for files that share a stem; "
        "default: bandmate-out/<input stem> in the current folder",
    )
    # Eight, then up to 32: on validation songs the best of 8 was judged music in 0.99-1.00
    # of clips for the drum and bass models, single tries in 0.64-0.77; on a harder second
    # set in 0.89-0.94, and drawing on while none is music (8.7-10.3 drawn on average) in
    # 0.96-1.00; single tries in 0.48-0.80 (benchmarks/candidate_choice.py, model card).
    # A checkpoint may carry its own number (`bandmate export --candidates`): the shipped
    # bass-to-instrumental draws 16, whose best follows a chorale's rhythm more closely;
    # the note-event models draw 4.
    add_sampling_arguments(parser, None, DEFAULT_BATCHES)
    parser.add_argument(
        "--overlap",
        type=float,
        default=2.0,
        help="seconds by which windows of long inputs overlap (at most half a window is used)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--soundfont",
        default="",
        help="events checkpoints: the .sf2/.sf3 that plays the notes (default: TimGM6mb, "
        "inside pretty_midi)",
    )
    parser.add_argument(
        "--program",
        action="append",
        default=[],
        metavar="NAME=PROGRAM",
        help="events checkpoints: the General MIDI program (0-127) that plays a family: "
        "piano, organ, guitar, bass, strings, brass, reed, lead, pad, ... (drums: the kit); "
        "repeat for several",
    )


def events_options(args: argparse.Namespace, config: GenerateConfig) -> GenerateConfig:
    """`config` with --soundfont and --program, checked before any model loads."""
    from dataclasses import replace

    from bandmate.generate.events import parse_programs

    parse_programs(args.program)  # a BandmateError naming the bad setting
    if args.soundfont:
        from bandmate.synth.render import check_soundfont

        if not Path(args.soundfont).is_file():
            raise BandmateError(f"{args.soundfont}: --soundfont not found")
        check_soundfont(args.soundfont)
    return replace(config, soundfont=args.soundfont, programs=tuple(args.program))


def add_sampling_arguments(
    parser: argparse.ArgumentParser, candidates: int | None = 1, batches: int = 1
) -> None:
    """The sampling flags that `generate` and `evaluate` share (`candidates`: the default
    of --candidates, None for the checkpoint's own; `batches`: --max-candidates defaults
    to this many times it)."""
    default = (
        f"the checkpoint's own (`bandmate export --candidates`), else {DEFAULT_CANDIDATES}"
        if candidates is None
        else str(candidates)
    )
    parser.add_argument(
        "--candidates",
        type=int,
        default=candidates,
        help="accompaniments sampled per input at a time; the one that scores best against "
        f"the input (music, then rhythm and chroma similarity) is kept (default: {default})",
    )
    parser.add_argument(
        "--max-candidates",
        type=int,
        help="while none so far is judged music, sample --candidates more, up to this many "
        "in all (default "
        + (f"{batches} x --candidates)" if batches > 1 else "the same as --candidates: no more)"),
    )
    parser.set_defaults(candidate_batches=batches)
    parser.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    parser.add_argument("--top-k", type=int, default=250, help="0 = no top-k filtering")
    parser.add_argument("--top-p", type=float, default=0.0, help="0 = no nucleus filtering")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same output")
    parser.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="classifier-free guidance weight (0 = off; default: the checkpoint's own, "
        "set by `bandmate export --guidance`, else 0; the model must have been trained "
        "with augment.input_dropout)",
    )


def generate_config(args: argparse.Namespace, overlap_seconds: float = 2.0) -> GenerateConfig:
    """The settings `add_sampling_arguments` parsed (and `--overlap`, passed as
    `overlap_seconds`); a value out of range is a BandmateError naming its flag."""
    from bandmate.config import FieldError
    from bandmate.generate.accompanist import GenerateConfig
    from bandmate.generate.sampling import SamplingConfig

    if args.max_candidates is not None and args.max_candidates < (args.candidates or 1):
        raise BandmateError(
            f"--max-candidates ({args.max_candidates}) must be at least --candidates"
        )
    try:
        sampling = SamplingConfig(args.temperature, args.top_k, args.top_p, args.guidance)
        return GenerateConfig(
            sampling,
            args.candidates,
            args.seed,
            overlap_seconds,
            args.max_candidates,
            args.candidate_batches,
        )
    except FieldError as error:  # the configs name their field; the user typed a flag
        raise BandmateError(f"{FLAGS.get(error.key, error.key)}: {error.problem}") from None


def run(args: argparse.Namespace) -> int:
    from bandmate.generate.run import generate_files

    config = events_options(args, generate_config(args, args.overlap))
    out = args.out or str(Path("bandmate-out") / Path(args.input).stem)
    try:
        reports = generate_files(args.checkpoint, args.input, out, config, args.device)
    except RuntimeError as error:  # CUDA out of memory is a RuntimeError subclass
        if "out of memory" not in str(error).lower():
            raise
        raise BandmateError(
            f"out of memory on {args.device}: use fewer --candidates or --device cpu"
        ) from None
    for report in reports:
        print(
            json.dumps(
                {
                    "input": report["input"],
                    "out": report["output"],
                    "seconds": round(report["duration_s"], 2),
                    "rtf": round(report["timings"]["real_time_factor"], 3),
                    "outcome": report["candidates"][report["chosen_candidate"]]["outcome"],
                    "candidates_drawn": len(report["candidates"]),
                }
            )
        )
    print(f"wrote {out}/", file=sys.stderr)
    return 0
