"""Decoding a window after the first, whose overlap with the previous window is forced:
forced steps fed one at a time (the loop before) against in one pass (generate_targets).

Every window of a long input after the first starts with the previous window's last
`overlap` seconds forced (continuity). Steps whose every id is forced need no logits, so
generate_targets feeds a run of them through the decoder in one pass. This measures one
such window of a shipped model with generate's defaults (batch of candidates, guidance),
both ways, in the same run; outputs are checked equal under greedy decoding.

    .venv/bin/python benchmarks/forced_prefill.py [--checkpoint bandmate:bass-to-drums-codec]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from bandmate.checkpoint import load_checkpoint
from bandmate.checkpoint_files import resolve_checkpoint
from bandmate.generate.decode import (
    FREE,
    ValidHead,
    forced_prefix,
    forced_runs,
    generate_targets,
    next_hidden,
    with_fixed_ids,
)
from bandmate.generate.sampling import SamplingConfig, sample
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout


def one_at_a_time(
    model: T5,
    layout: TokenLayout,
    encoder: torch.Tensor,
    forced: torch.Tensor,
    sampling: SamplingConfig,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """generate_targets as it was: every step through the model, forced ones too."""
    steps, batch = layout.target_steps, encoder.shape[0]
    guidance = sampling.guidance or 0.0
    if guidance:
        encoder = torch.cat([encoder, torch.from_numpy(layout.null_input()).expand_as(encoder)])
    cache = model.init_cache(model.encode(encoder), steps, torch.from_numpy(layout.input_frames()))
    head = ValidHead(model, layout)
    out = torch.zeros((batch, *layout.target_shape), dtype=torch.long)
    token = torch.zeros((batch, *layout.target_shape[:-1], 1), dtype=torch.long)
    for t in range(steps):
        logits, valid = head.logits(next_hidden(model, token, cache, guidance), t)
        ids = sample(logits, valid, sampling, generator) + head.lo[t]
        ids = ids if layout.num_streams > 1 else ids[:, 0]
        ids = torch.where(forced[..., t] != FREE, forced[..., t], ids)
        out[..., t] = ids
        token = ids[..., None]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="bandmate:bass-to-drums-codec")
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--guidance", type=float, default=12.0)
    parser.add_argument("--overlap", type=float, default=0.5, help="forced share of a window")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as generate decodes a small model on the CPU
    model, layout, _ = load_checkpoint(resolve_checkpoint(args.checkpoint))
    rng = np.random.default_rng(0)
    n_sem = round(args.overlap * layout.semantic_frames)
    n_ac = round(args.overlap * layout.acoustic_frames)
    sem = rng.integers(0, layout.semantic_vocab_size, (args.candidates, n_sem))
    ac = rng.integers(0, layout.codebook_size, (args.candidates, layout.num_codebooks, n_ac))
    forced = torch.from_numpy(forced_prefix(layout, sem, ac))
    ids = rng.integers(0, layout.semantic_vocab_size, (1, layout.semantic_frames))
    encoder = torch.from_numpy(layout.encoder_tokens(ids)).expand(args.candidates, -1)
    greedy = SamplingConfig(temperature=0.0, guidance=args.guidance)
    same = torch.equal(
        generate_targets(model, layout, encoder, greedy, None, forced),
        one_at_a_time(model, layout, encoder, forced, greedy, None),
    )
    sampling = SamplingConfig(guidance=args.guidance)
    seconds: dict[str, list[float]] = {"one_at_a_time": [], "one_pass": []}
    for _ in range(args.repeats):
        for name in seconds:
            generator = torch.Generator().manual_seed(0)
            start = time.perf_counter()
            if name == "one_pass":
                generate_targets(model, layout, encoder, sampling, generator, forced)
            else:
                one_at_a_time(model, layout, encoder, forced, sampling, generator)
            seconds[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in seconds.items()}
    runs = forced_runs(with_fixed_ids(layout, forced), layout.target_steps)
    print(
        json.dumps(
            {
                "checkpoint": args.checkpoint,
                "batch": args.candidates,
                "guidance": args.guidance,
                "steps": layout.target_steps,
                "steps_forced_whole": sum(1 for n in runs if n),
                "greedy_outputs_equal": same,
                "seconds_best_of": args.repeats,
                **{f"{name}_s": round(s, 3) for name, s in best.items()},
                "speedup": round(best["one_at_a_time"] / best["one_pass"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
