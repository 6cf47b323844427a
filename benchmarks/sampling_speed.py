"""Sampling speed: drawing among the top k ids against a draw over the whole vocabulary.

`sampling.sample` takes the k best logits (sorted), filters them by top-p and draws
among those k. The baseline is the sampler it replaced: the same filters as masks over
all V ids, then a multinomial over V. Both decode one 4 s window of the shipped
bass-to-instrumental model (random input ids, its own guidance weight) for several
batch sizes (`--candidates`), on one thread as `bandmate generate` decodes a small
model on the CPU. Prints one JSON object: seconds per window for each and the speed-up.

Since `benchmarks/decode_speed.py`'s change the decoder hands the sampler the logits of
a step's valid ids only (at most 1,024, not 4,354), so the two samplers differ less
than when the README's figures were measured (batch 8: 1.09x on 2026-12-07, 1.42x
before).

    PYTHONPATH=src python benchmarks/sampling_speed.py --batch 1 4 8
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch import Tensor

import bandmate.generate.decode as decode
from bandmate.checkpoint import load_checkpoint, resolve_checkpoint
from bandmate.generate.sampling import SamplingConfig, constrain


def sample_full_vocabulary(
    logits: Tensor, valid: Tensor, config: SamplingConfig, generator: torch.Generator | None = None
) -> Tensor:
    """The replaced sampler: top-k and top-p as masks over V, a multinomial over V."""
    logits = constrain(logits.float(), valid) / config.temperature
    kth = torch.topk(logits, config.top_k, dim=-1).values[..., -1:]
    logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    ids = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator)
    return ids.view(probs.shape[:-1])


def seconds_per_window(
    decode_once: Callable[[], Any], sampler: Callable[..., Tensor], repeats: int
) -> float:
    """Seconds per call of `decode_once` with `sampler` in the decoder's place."""
    original, decode.sample = decode.sample, sampler
    try:
        decode_once()  # warm-up
        start = time.perf_counter()
        for _ in range(repeats):
            decode_once()
        return (time.perf_counter() - start) / repeats
    finally:
        decode.sample = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    directory = resolve_checkpoint("bandmate:bass-to-instrumental")
    model, layout, meta = load_checkpoint(directory, torch.device("cpu"))
    sampling = SamplingConfig(guidance=float(meta.get("guidance", 0.0)))
    rows = []
    for batch in args.batch:
        ids = torch.randint(0, layout.semantic_vocab_size, (batch, layout.semantic_frames))
        encoder = torch.from_numpy(layout.encoder_tokens(ids.numpy()))
        generator = torch.Generator().manual_seed(0)
        times = {
            name: seconds_per_window(
                partial(decode.generate_targets, model, layout, encoder, sampling, generator),
                sampler,
                args.repeats,
            )
            for name, sampler in (
                ("top_k_draw", decode.sample),
                ("full_vocab", sample_full_vocabulary),
            )
        }
        rows.append(
            {
                "batch": batch,
                "top_k_draw_s": times["top_k_draw"],
                "full_vocab_s": times["full_vocab"],
                "speedup": times["full_vocab"] / times["top_k_draw"],
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
