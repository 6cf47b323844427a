"""Decoding speed: the output layer cut to each step's valid ids, and self-attention over
the written cache only, against the decoder before (full output layer, whole cache).

`generate_targets` multiplies only the output-layer rows of the ids each stream may emit
at a step (`decode.ValidHead`: at most a codebook, a quarter of the delay layout's
vocabulary) and attends the cache's written positions (rounded up to `CACHE_BLOCK`). The
baseline is the loop it replaced: logits over the whole vocabulary, masked, and every
step reading the whole cache (`CACHE_BLOCK` set beyond the cache). Both decode one 4 s
window of a shipped model (random input ids, its own guidance weight, the same seed)
for several batch sizes (`bandmate generate --candidates`), on one thread as
`bandmate generate` decodes on the CPU. Prints one JSON object: seconds per window,
the speed-up and the share of ids both drew alike (the same distribution; float
rounding of the smaller product may flip a rare draw).

    PYTHONPATH=src python benchmarks/decode_speed.py --batch 1 8 16
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor

import bandmate.model.t5 as t5
from bandmate.checkpoint import load_checkpoint, resolve_checkpoint
from bandmate.generate.decode import generate_targets, next_logits, valid_masks
from bandmate.generate.sampling import SamplingConfig, sample
from bandmate.tokens.layout import PAD_ID, TokenLayout


@torch.no_grad()
def generate_before(
    model: t5.T5,
    layout: TokenLayout,
    encoder_ids: Tensor,
    sampling: SamplingConfig,
    generator: torch.Generator,
) -> Tensor:
    """The decoding loop before: full logits [B, S, V] masked to the valid ids."""
    batch = encoder_ids.shape[0]
    guidance = sampling.guidance or 0.0
    if guidance > 0:
        null = torch.from_numpy(layout.null_input()).expand_as(encoder_ids)
        encoder_ids = torch.cat([encoder_ids, null])
    frames = torch.from_numpy(layout.input_frames())
    cache = model.init_cache(model.encode(encoder_ids), layout.target_steps, frames)
    masks = valid_masks(layout, encoder_ids.device)
    out = torch.full((batch, *layout.target_shape), PAD_ID, dtype=torch.long)
    token = torch.full((batch, *layout.target_shape[:-1], 1), PAD_ID, dtype=torch.long)
    for t in range(layout.target_steps):
        ids = sample(next_logits(model, token, cache, guidance), masks[t], sampling, generator)
        out[..., t] = ids
        token = ids[..., None]
    return out


def decode_now(
    model: t5.T5, layout: TokenLayout, encoder: Tensor, sampling: SamplingConfig
) -> Tensor:
    return generate_targets(model, layout, encoder, sampling, torch.Generator().manual_seed(0))


def decode_before(
    model: t5.T5, layout: TokenLayout, encoder: Tensor, sampling: SamplingConfig
) -> Tensor:
    block, t5.CACHE_BLOCK = t5.CACHE_BLOCK, 1 << 30  # every step reads the whole cache
    try:
        return generate_before(model, layout, encoder, sampling, torch.Generator().manual_seed(0))
    finally:
        t5.CACHE_BLOCK = block


def timed(run: Callable[[], Tensor], repeats: int) -> tuple[float, Tensor]:
    """Seconds per call after a warm-up call, and the last call's ids."""
    run()
    start = time.perf_counter()
    for _ in range(repeats):
        ids = run()
    return (time.perf_counter() - start) / repeats, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bandmate:bass-to-instrumental")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    directory = resolve_checkpoint(args.model)
    model, layout, meta = load_checkpoint(directory, torch.device("cpu"))
    sampling = SamplingConfig(guidance=float(meta.get("guidance", 0.0)))
    rows: list[dict[str, Any]] = []
    for batch in args.batch:
        shape = (batch, layout.semantic_frames)
        ids = np.random.default_rng(0).integers(0, layout.semantic_vocab_size, shape)
        encoder = torch.from_numpy(layout.encoder_tokens(ids))

        now_s, now_ids = timed(partial(decode_now, model, layout, encoder, sampling), args.repeats)
        before_s, before_ids = timed(
            partial(decode_before, model, layout, encoder, sampling), args.repeats
        )
        rows.append(
            {
                "batch": batch,
                "now_s": now_s,
                "before_s": before_s,
                "speedup": before_s / now_s,
                "same_ids": float((now_ids == before_ids).float().mean()),
            }
        )
    report = {
        "model": directory.name,
        "guidance": sampling.guidance,
        "threads": 1,
        "decoder_steps": layout.target_steps,
        "results": rows,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
