"""`bandmate codec train` and `bandmate codec reconstruct`: argument parsing only."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from bandmate.config import add_overrides_argument, load_config, parse_overrides

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="codec_command", metavar="ACTION", required=True)
    train = actions.add_parser(
        "train",
        help="train a codec on a folder of audio",
        description="Train the project's codec on every audio file under --data "
        "(recursively; any rate and channel count, resampled to mono). Checkpoints go to "
        "--out; running again with the same --out resumes with the saved settings, of which "
        "--steps and --set vq_start_step/valid_every/log_every/save_every/plot may change "
        "(e.g. --steps 11000 --set vq_start_step=5000 quantizes a plain autoencoder run "
        "from step 5000 on).",
    )
    train.add_argument("--data", required=True, help="folder of audio files")
    train.add_argument("--out", required=True, help="checkpoint directory to write")
    train.add_argument("--config", help="YAML with TrainConfig fields (model: {...} nested)")
    add_overrides_argument(train, "batch_size=32 --set model.architecture=stft")
    train.add_argument(
        "--init-from",
        metavar="CODEC",
        help="start from this codec's weights (bandmate:default or a checkpoint directory): "
        "fine-tuning on your own audio; with --set freeze_encoder=true only the decoder "
        "trains, so every code (and every model trained on them) stays valid",
    )
    train.add_argument("--steps", type=int, help="optimizer steps in total (also extends a resume)")
    train.add_argument("--device", default=None, help="torch device (default: cuda if present)")
    train.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(handler=run_train)

    recon = actions.add_parser(
        "reconstruct",
        help="encode then decode an audio file",
        description="Encode IN with a codec and decode it again into OUT (mono WAV at the "
        "input's sample rate and length), to hear what the codec keeps.",
    )
    recon.add_argument("input", metavar="IN", help="audio file (any common rate/channels)")
    recon.add_argument("output", metavar="OUT", help="WAV file to write")
    recon.add_argument(
        "--codec",
        default="bandmate:default",
        help="codec spec: bandmate:default, bandmate:DIR or a checkpoint directory",
    )
    recon.add_argument("--threads", type=int, help="CPU threads for torch")
    recon.set_defaults(handler=run_reconstruct)

    export = actions.add_parser(
        "export",
        help="copy a trained codec's inference files",
        description="Write CODEC's config and weights to OUT without its training "
        "state (OUT is replaced as a whole), e.g. to ship it or load it as bandmate:OUT.",
    )
    export.add_argument(
        "checkpoint", metavar="CODEC", help="codec spec: bandmate:default, bandmate:DIR or DIR"
    )
    export.add_argument("out", metavar="OUT", help="folder to write")
    export.add_argument(
        "--half",
        action="store_true",
        help="store encoder and decoder weights as float16 (about half the size)",
    )
    export.set_defaults(handler=run_export)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from bandmate.codec.train import TrainConfig, train_codec

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = list(args.overrides)
    if args.steps is not None:
        overrides.append(f"steps={args.steps}")
    # Parsing first rejects a malformed KEY=VALUE before any audio is read.
    changed = set(parse_overrides(overrides))
    config = load_config(TrainConfig, args.config, overrides)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    started = time.monotonic()
    init_from = None
    if args.init_from:
        from bandmate.codec.neural import checkpoint_path

        init_from = checkpoint_path(args.init_from)
    train_codec(
        args.data,
        args.out,
        config,
        device,
        progress=not args.no_progress,
        init_from=init_from,
        changed=changed,
    )
    print(f"codec checkpoint: {args.out} ({time.monotonic() - started:.0f} s)")
    return 0


def run_reconstruct(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from bandmate.codec.neural import codec_from_checkpoint
    from bandmate.data.audio import peak_normalize, read_audio, resample, to_mono, write_wav

    if args.threads:
        torch.set_num_threads(args.threads)
    codec = codec_from_checkpoint(args.codec)
    wav, rate = read_audio(args.input)
    mono = resample(to_mono(wav), rate, codec.sample_rate_hz)
    started = time.monotonic()
    codes = codec.encode(torch.from_numpy(mono)[None])  # [1, K, F]
    decoded = codec.decode(codes)[0, : len(mono)].numpy()  # [S]
    seconds = time.monotonic() - started
    out = resample(decoded.astype(np.float32), codec.sample_rate_hz, rate)
    write_wav(Path(args.output), peak_normalize(out), rate)
    print(
        f"{args.output}: {len(mono) / codec.sample_rate_hz:.2f} s, {codes.shape[-1]} frames x "
        f"{codes.shape[1]} codebooks ({codec.spec}), encode+decode {seconds:.2f} s"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from bandmate.codec.checkpoint import export_codec
    from bandmate.codec.neural import checkpoint_path

    export_codec(checkpoint_path(args.checkpoint), args.out, args.half)
    size = sum(f.stat().st_size for f in Path(args.out).iterdir()) / 1e6
    print(f"exported {args.checkpoint} -> {args.out} ({size:.1f} MB)")
    return 0
