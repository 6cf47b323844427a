"""Generation speed: bandmate's cached, constrained decoder against transformers' generate.

Same random weights (bandmate's T5 copied into T5ForConditionalGeneration), same input and
output lengths, sampling with top-k and the same per-position mask (given to transformers
as a logits processor, as a user would have to). Baselines (DESIGN.md §6):
(a) `generate` as it comes, (b) `generate` with `cache_implementation="static"`.
Prints one JSON object: seconds per clip for each, speed-ups, and real-time factors.

    PYTHONPATH=src python benchmarks/generate_speed.py                       # CPU: tiny, 5 s clip
    PYTHONPATH=src python benchmarks/generate_speed.py --preset base --clip-seconds 10 \
        --batch 1 32 --layouts flatten delay                                 # GPU: thesis shapes

With `--checkpoints`, it times the whole `bandmate generate` command instead (start-up, model
load, tokenizing, decoding, codec or SoundFont rendering, writing) for a single try
(`--candidates 1 --max-candidates 1`; `--policy default`: generate's own candidates) of
each checkpoint on the same input, one after the other in this run, and its peak memory
(the child's max RSS) on `--long-seconds` of the same input tiled. `--sources OLD NEW`
times two source trees (e.g. `git worktree add /tmp/old HEAD~3`) side by side:

    PYTHONPATH=src python benchmarks/generate_speed.py --input BASS.wav \
        --checkpoints bandmate:bass-to-drums-codec bandmate:bass-to-drums --seconds 20 \
        --long-seconds 180 [--sources /tmp/old .] [--policy both] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bandmate.generate.decode import generate_targets, valid_masks
from bandmate.generate.sampling import SamplingConfig
from bandmate.model.config import preset_config
from bandmate.model.hf import to_hf_model
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout

SEMANTIC_HZ, ACOUSTIC_HZ = 50, 75


def build(
    preset: str, kind: str, clip_seconds: float, device: torch.device, dtype: torch.dtype
) -> tuple[T5, TokenLayout]:
    layout = TokenLayout(
        kind, 1024, 4, 1024, int(clip_seconds * SEMANTIC_HZ), int(clip_seconds * ACOUSTIC_HZ)
    )
    torch.manual_seed(0)
    config = preset_config(preset, layout.vocab_size, num_streams=layout.num_streams, dropout=0.0)
    return T5(config).to(device=device, dtype=dtype).eval(), layout


def timed(run: Callable[[], Any], device: torch.device, repeats: int) -> float:
    """Seconds per call after one warm-up call."""
    run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def hf_runner(
    model: T5, layout: TokenLayout, encoder: torch.Tensor, static: bool
) -> Callable[[], Any]:
    """transformers' generate; the mask comes before top-k, as in bandmate's sampler."""
    from transformers import LogitsProcessor, LogitsProcessorList, TopKLogitsWarper

    hf = to_hf_model(model).to(device=encoder.device, dtype=next(model.parameters()).dtype).eval()
    masks = valid_masks(layout, encoder.device)  # [L, V]

    class Constrain(LogitsProcessor):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            position = input_ids.shape[1] - 1  # ids include the decoder start
            return scores.masked_fill(~masks[position], float("-inf"))

    extra = {"cache_implementation": "static"} if static else {}
    steps = layout.target_steps

    def run() -> Any:
        with torch.no_grad():
            return hf.generate(
                encoder,
                do_sample=True,
                top_k=0,
                max_new_tokens=steps,  # the mask allows EOS only at the last position
                logits_processor=LogitsProcessorList([Constrain(), TopKLogitsWarper(250)]),
                **extra,
            )

    return run


def measure(
    args: argparse.Namespace, kind: str, batch: int, device: torch.device, dtype: torch.dtype
) -> dict[str, Any]:
    model, layout = build(args.preset, kind, args.clip_seconds, device, dtype)
    ids = torch.randint(0, 1024, (batch, layout.semantic_frames)).numpy()
    encoder = torch.from_numpy(layout.encoder_tokens(ids)).to(device)
    gen = torch.Generator(device).manual_seed(0)
    ours = timed(
        lambda: generate_targets(model, layout, encoder, SamplingConfig(), gen),
        device,
        args.repeats,
    )
    row: dict[str, Any] = {
        "layout": kind,
        "batch": batch,
        "decoder_steps": layout.target_steps,
        "bandmate_s_per_clip": ours / batch,
        "bandmate_real_time_factor": ours / batch / args.clip_seconds,
    }
    if kind == "flatten" and not args.skip_baselines:  # transformers has no multi-stream decoding
        for name, static in (("hf_generate", False), ("hf_generate_static", True)):
            seconds = timed(hf_runner(model, layout, encoder, static), device, args.repeats)
            row[f"{name}_s_per_clip"] = seconds / batch
            row[f"speedup_vs_{name}"] = seconds / ours
    return row


def run_generate(
    checkpoint: str, wav: Path, out: Path, source: str = "", single: bool = True
) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one `bandmate generate` in a child: a single try,
    or with `single` False generate's default candidates; `source`: a source tree (its
    `src/` goes first on PYTHONPATH) instead of the installed package."""
    policy = ["--candidates", "1", "--max-candidates", "1"] if single else []
    command = [
        sys.executable, "-m", "bandmate", "generate", str(wav), "--out", str(out),
        "--checkpoint", checkpoint, *policy,
    ]  # fmt: skip
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = str(Path(source).resolve() / "src")
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{checkpoint}: generate failed: {child.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    return seconds, usage.ru_maxrss / 1024


def whole_commands(args: argparse.Namespace) -> dict[str, Any]:
    """Single tries of each checkpoint on `args.seconds` of the input, and peak memory on
    `args.long_seconds` of it."""
    import numpy as np
    import soundfile as sf

    wav, rate = sf.read(args.input, dtype="float32", always_2d=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        short, long = Path(tmp) / "short.wav", Path(tmp) / "long.wav"
        sf.write(short, wav[: round(args.seconds * rate)], rate)
        reps = max(1, int(np.ceil(args.long_seconds * rate / len(wav))))
        sf.write(long, np.tile(wav, (reps, 1))[: round(args.long_seconds * rate)], rate)
        # Code versions alternate within each checkpoint, so that a machine's load drifts
        # over both alike.
        for checkpoint, single in itertools.product(args.checkpoints, policies(args.policy)):
            for source in args.sources:
                rows.append(whole_row(args, checkpoint, single, source, short, long, Path(tmp)))
    return {"input": args.input, "seconds": args.seconds, "long_seconds": args.long_seconds,
            "cpus": os.cpu_count(), "results": rows}  # fmt: skip


def policies(policy: str) -> list[bool]:
    """--policy as `single` flags: single tries, generate's defaults, or both."""
    return {"single": [True], "default": [False], "both": [True, False]}[policy]


def whole_row(
    args: argparse.Namespace,
    checkpoint: str,
    single: bool,
    source: str,
    short: Path,
    long: Path,
    tmp: Path,
) -> dict[str, Any]:
    """One checkpoint, policy and code version: the median of `args.repeats` runs on the
    short input, and one on the long input."""
    import numpy as np

    runs = [
        run_generate(checkpoint, short, tmp / "out", source, single) for _ in range(args.repeats)
    ]
    seconds = float(np.median([r[0] for r in runs]))
    row = {
        "checkpoint": checkpoint,
        "code": source or "installed",
        "policy": "single try" if single else "defaults",
        "seconds_s": round(seconds, 2),
        "real_time_factor": round(seconds / args.seconds, 3),
        "peak_rss_mib": round(max(r[1] for r in runs), 1),
    }
    if args.long_seconds > 0:  # 0: skip the long input
        long_seconds, peak = run_generate(checkpoint, long, tmp / "out-long", source, single)
        row["long_input_s"] = round(long_seconds, 2)
        row["long_real_time_factor"] = round(long_seconds / args.long_seconds, 3)
        row["long_peak_rss_mib"] = round(peak, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", nargs="+", help="time whole generate commands instead")
    parser.add_argument("--input", help="with --checkpoints: the input audio file")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--long-seconds", type=float, default=180.0)
    parser.add_argument(
        "--sources",
        nargs="+",
        default=[""],
        help="with --checkpoints: source trees to time side by side (e.g. a `git worktree` "
        "of the previous commit and .); default: the installed package",
    )
    parser.add_argument(
        "--policy",
        choices=("single", "default", "both"),
        default="single",
        help="with --checkpoints: single tries, generate's default candidates, or both",
    )
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--clip-seconds", type=float, default=5.0)
    parser.add_argument("--batch", type=int, nargs="+", default=[1])
    parser.add_argument("--layouts", nargs="+", default=["flatten", "delay"])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    if args.checkpoints:
        if not args.input:
            parser.error("--checkpoints needs --input")
        print(json.dumps(whole_commands(args), indent=2))
        return
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [
        measure(args, kind, batch, device, dtype) for kind in args.layouts for batch in args.batch
    ]
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(
        json.dumps(
            {
                "device": name,
                "threads": torch.get_num_threads(),
                "preset": args.preset,
                "clip_seconds": args.clip_seconds,
                "results": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
