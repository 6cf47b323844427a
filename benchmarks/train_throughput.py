"""Training throughput of bandmate's T5 against transformers' T5 (same config, same weights).

Prints one JSON object: decoder tokens/s of a full training step (forward, loss,
backward, AdamW) for both models, the speed-up, peak memory on GPU and model FLOPs
utilisation (MFU) against the GPU's bf16 dense peak.

    PYTHONPATH=src python benchmarks/train_throughput.py              # CPU: tiny preset
    PYTHONPATH=src python benchmarks/train_throughput.py --preset base --input-length 512 \
        --target-length 3512 --batch 8                                # GPU: thesis shapes
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable

import torch

from bandmate.model.config import T5Config, preset_config
from bandmate.model.hf import to_hf_model
from bandmate.model.t5 import T5
from bandmate.train.losses import loss_terms

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense, no sparsity


def step_flops(c: T5Config, batch: int, enc_len: int, dec_len: int) -> float:
    """Matmul FLOPs of one training step (forward + backward = 3 x forward)."""
    attn = 4 * c.d_model * c.inner_dim  # q, k, v, o
    ff = 3 * c.d_model * c.d_ff
    enc = c.num_encoder_layers * (2 * (attn + ff) * enc_len + 4 * c.inner_dim * enc_len**2)
    dec_self = 2 * (attn + ff) * dec_len + 4 * c.inner_dim * dec_len**2
    cross = (
        2 * 2 * c.d_model * c.inner_dim * (dec_len + enc_len) + 4 * c.inner_dim * dec_len * enc_len
    )
    head = 2 * c.d_model * c.vocab_size * c.num_streams * dec_len
    return 3.0 * batch * (enc + c.num_decoder_layers * (dec_self + cross) + head)


def time_steps(step: Callable[[], None], steps: int, warmup: int, device: torch.device) -> float:
    """Seconds per step after `warmup` untimed steps."""
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def make_step(
    forward: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    model: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    device: torch.device,
) -> Callable[[], None]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    cast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )

    def step() -> None:
        with cast:
            logits = forward(batch["enc"], batch["mask"], batch["dec"])
        loss, _ = loss_terms(logits, batch["target"], batch["weights"], 0.0)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def measure(args: argparse.Namespace, device: torch.device) -> dict[str, object]:
    config = preset_config(args.preset, vocab_size=5122, dropout=0.0)
    torch.manual_seed(0)
    ours = T5(config).to(device).train()
    theirs = to_hf_model(ours).to(device).train()
    b, ls, ld = args.batch, args.input_length, args.target_length
    gen = torch.Generator().manual_seed(0)
    batch = {
        "enc": torch.randint(2, config.vocab_size, (b, ls), generator=gen),
        "mask": torch.ones(b, ls, dtype=torch.long),
        "dec": torch.randint(2, config.vocab_size, (b, ld), generator=gen),
        "target": torch.randint(2, config.vocab_size, (b, ld), generator=gen),
        "weights": torch.ones(b, ld),
    }
    batch = {k: v.to(device) for k, v in batch.items()}
    ours_step = make_step(lambda e, m, d: ours(e, d, m), ours, batch, device)
    hf_step = make_step(
        lambda e, m, d: theirs(input_ids=e, attention_mask=m, decoder_input_ids=d).logits,
        theirs, batch, device,
    )  # fmt: skip
    result: dict[str, object] = {}
    for name, step in (("bandmate", ours_step), ("transformers", hf_step)):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        try:
            seconds = time_steps(step, args.steps, args.warmup, device)
        except torch.OutOfMemoryError:
            result[name] = {"error": "out of memory"}
            torch.cuda.empty_cache()
            continue
        entry = {"seconds_per_step": seconds, "tokens_per_s": b * ld / seconds}
        if device.type == "cuda":
            entry["peak_memory_gb"] = torch.cuda.max_memory_allocated() / 1e9
            peak = next(
                (v for k, v in PEAK_BF16_FLOPS.items() if k in torch.cuda.get_device_name()), None
            )
            if peak:
                entry["mfu"] = step_flops(config, b, ls, ld) / seconds / peak
        result[name] = entry
    return result


def main() -> None:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base" if cuda else "tiny")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--input-length", type=int, default=512 if cuda else 64)
    parser.add_argument("--target-length", type=int, default=3512 if cuda else 256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if cuda else "cpu")
    result = measure(args, device)
    ours, theirs = result.get("bandmate"), result.get("transformers")
    speedup = None
    if isinstance(ours, dict) and isinstance(theirs, dict) and "tokens_per_s" in theirs:
        speedup = ours["tokens_per_s"] / theirs["tokens_per_s"]
    print(json.dumps({
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "threads": torch.get_num_threads(), **vars(args), **result,
        "speedup_vs_transformers": speedup,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
