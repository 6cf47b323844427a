"""`bandmate synth`: render a multitrack dataset (MedleyDB layout) from MIDI, offline."""

from __future__ import annotations

import argparse
import os
import sys

from bandmate.errors import BandmateError
from bandmate.synth.dataset import DEFAULT_SOURCES, SynthSettings, find_palette, synthesize
from bandmate.synth.timbres import TIMBRES


def parse_sources(text: str) -> tuple[tuple[str, float], ...]:
    """`band,chorale` or `band=0.8,folk=0.2` -> ((name, weight), ...)."""
    sources = []
    for item in text.split(","):
        name, _, weight = item.strip().partition("=")
        if not name:
            continue
        try:
            sources.append((name.strip(), float(weight) if weight else 1.0))
        except ValueError:
            raise BandmateError(f"--sources: bad weight in {item!r}") from None
    if not sources:
        raise BandmateError("--sources names no source")
    return tuple(sources)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default_sources = ",".join(f"{name}={weight}" for name, weight in DEFAULT_SOURCES)
    parser.add_argument("--out", required=True, help="dataset root to create")
    parser.add_argument("--songs", type=int, required=True, help="number of songs")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    parser.add_argument(
        "--sources",
        default=default_sources,
        help="band (procedural), chorale (Bach, music21 corpus), folk (tunes + band), "
        "hymn (four-part chorale settings written by rule, never the same twice), "
        "chorale-heldout (Bach chorales never used by `chorale`, bass voice on tuba or "
        "bassoon: an out-of-distribution test set); "
        f"comma-separated, optional =weight (default {default_sources})",
    )
    parser.add_argument(
        "--clip-seconds",
        "--seconds",
        dest="clip_seconds",
        type=float,
        default=30.0,
        help="length of every song in seconds (default 30)",
    )
    parser.add_argument(
        "--sample-rate", type=int, default=24_000, help="sample rate in Hz (default 24000)"
    )
    parser.add_argument("--stereo", action="store_true", help="stereo stems (default mono)")
    parser.add_argument(
        "--soundfont",
        help=".sf2/.sf3 to render every part with (implies --timbres single; default "
        "TimGM6mb.sf2 from pretty_midi)",
    )
    parser.add_argument(
        "--timbres",
        help=f"one of {', '.join(TIMBRES)}. varied (the default): each part drawn from every "
        "non-reserved General MIDI SoundFont installed, the recorded kits of Debian's "
        "hydrogen-drumkits and numpy synth patches, each stem through its own effect chain; "
        "single: every part dry on --soundfont (what the shipped models were trained on); "
        "reserved: the unseen-timbre TEST set, each song on a reserved General MIDI font "
        "(FluidR3_GM, MuseScore_General, ...) with an avldrums kit for its drums; tokenize "
        "and train refuse it. Each worker parses the fonts it draws once (MuseScore_General: "
        "~12 s, ~2 GB), so keep --jobs low with reserved",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an earlier synth dataset at --out"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    settings = SynthSettings(
        songs=args.songs,
        seed=args.seed,
        sources=parse_sources(args.sources),
        clip_seconds=args.clip_seconds,
        sample_rate_hz=args.sample_rate,
        channels=2 if args.stereo else 1,
        soundfont=args.soundfont,
        timbres=args.timbres or ("single" if args.soundfont else "varied"),
    )
    settings.validate()
    find_palette(settings)  # a missing font or kit is one line, before the progress bar
    bar = tqdm(total=settings.songs, unit="song", disable=args.no_progress, file=sys.stderr)
    with bar:
        report = synthesize(
            args.out, settings, jobs=max(args.jobs, 1), overwrite=args.overwrite,
            on_song=lambda _: bar.update(1),
        )  # fmt: skip
    sources = ", ".join(f"{n} {name}" for name, n in sorted(report.sources.items()))
    print(
        f"wrote {report.songs} songs ({sources}) to {report.out}: "
        f"{report.audio_seconds:.0f} s of audio in {report.wall_seconds:.1f} s "
        f"({report.speed:.1f} s of audio per second)"
    )
    if report.reserved:  # --timbres reserved, or a reserved --soundfont
        fonts = ", ".join(f"{name} ({n} stems)" for name, n in sorted(report.soundfonts.items()))
        print(f"rendered with reserved timbres, for testing only (training refuses it): {fonts}")
    return 0
