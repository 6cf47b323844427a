"""Generation speed: bandmate's cached, constrained decoder against transformers' generate.

Same random weights (bandmate's T5 copied into T5ForConditionalGeneration), same input and
output lengths, sampling with top-k and the same per-position mask (given to transformers
as a logits processor, as a user would have to). Baselines (DESIGN.md §6):
(a) `generate` as it comes, (b) `generate` with `cache_implementation="static"`.
Prints one JSON object: seconds per clip for each, speed-ups, and real-time factors.

    PYTHONPATH=src python benchmarks/generate_speed.py                       # CPU: tiny, 5 s clip
    PYTHONPATH=src python benchmarks/generate_speed.py --preset base --clip-seconds 10 \
        --batch 1 32 --layouts flatten delay                                 # GPU: thesis shapes
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--clip-seconds", type=float, default=5.0)
    parser.add_argument("--batch", type=int, nargs="+", default=[1])
    parser.add_argument("--layouts", nargs="+", default=["flatten", "delay"])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
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
