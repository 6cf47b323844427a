"""Training throughput of bandmate's T5 against transformers' T5 (same config, same weights).

Prints one JSON object: decoder tokens/s of a full training step (forward, loss,
backward, AdamW) for both models, the speed-up, peak memory on GPU and model FLOPs
utilisation (MFU) against the GPU's bf16 dense peak. Also bandmate with the valid-id
softmax (`--set softmax=valid`: the output layer multiplies only the rows of the ids
valid at each position), on the same batch: real flatten-layout clips, semantic ids
then codebook ids frame by frame.

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
from bandmate.tokens.layout import TokenLayout
from bandmate.train.losses import head_groups, loss_terms, valid_loss_terms

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
    loss_of: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Callable[[], None]:
    """One training step; the loss is `loss_of(forward output)`, by default the
    full-vocabulary cross-entropy of the output as logits."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    cast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )

    def step() -> None:
        with cast:
            logits = forward(batch["enc"], batch["mask"], batch["dec"])
        if loss_of is None:
            loss = loss_terms(logits, batch["target"], batch["weights"], 0.0)[0]
        else:
            loss = loss_of(logits)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def measure(args: argparse.Namespace, device: torch.device) -> dict[str, object]:
    b, ls = args.batch, args.input_length
    layout = clip_layout(args.layout, ls, args.target_length)
    ld = layout.target_steps  # decoder steps (delay: every step predicts K tokens)
    config = preset_config(
        args.preset, vocab_size=5122, dropout=0.0, num_streams=layout.num_streams
    )
    torch.manual_seed(0)
    ours = T5(config).to(device).train()
    batch = {k: v.to(device) for k, v in clip_batch(layout, b).items()}
    groups = head_groups(layout.position_ranges(), device)
    ours_step = make_step(lambda e, m, d: ours(e, d, m), ours, batch, device)
    valid_step = make_step(
        lambda e, m, d: ours(e, d, m, groups), ours, batch, device,
        lambda out: valid_loss_terms(out, groups, batch["target"], batch["weights"], 0.0)[0],
    )  # fmt: skip
    systems = [("bandmate", ours_step), ("bandmate_valid_softmax", valid_step)]
    if layout.num_streams == 1:  # transformers' T5 has one decoder stream
        theirs = to_hf_model(ours).to(device).train()
        hf_step = make_step(
            lambda e, m, d: theirs(input_ids=e, attention_mask=m, decoder_input_ids=d).logits,
            theirs, batch, device,
        )  # fmt: skip
        systems.append(("transformers", hf_step))
    result: dict[str, object] = {}
    for name, step in systems:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        try:
            seconds = time_steps(step, args.steps, args.warmup, device)
        except torch.OutOfMemoryError:
            result[name] = {"error": "out of memory"}
            torch.cuda.empty_cache()
            continue
        tokens = b * ld * layout.num_streams  # target tokens per step
        entry = {"seconds_per_step": seconds, "tokens_per_s": tokens / seconds}
        if device.type == "cuda":
            entry["peak_memory_gb"] = torch.cuda.max_memory_allocated() / 1e9
            peak = next(
                (v for k, v in PEAK_BF16_FLOPS.items() if k in torch.cuda.get_device_name()), None
            )
            if peak:
                entry["mfu"] = step_flops(config, b, ls, ld) / seconds / peak
        result[name] = entry
    return result


def clip_layout(kind: str, input_length: int, target_length: int) -> TokenLayout:
    """The layout (1024 semantic ids, 4 x 1024 codes: vocabulary 5122) whose flatten
    clips have these encoder and decoder lengths (delay: the same clips, F + K steps)."""
    semantic = input_length - 1
    acoustic, rest = divmod(target_length - semantic - 1, 4)
    if acoustic < 1 or rest:
        raise SystemExit(
            f"--target-length must be input length + 4 x frames, e.g. {input_length + 4 * 64}"
        )
    return TokenLayout(kind, 1024, 4, 1024, semantic, acoustic)


def clip_batch(layout: TokenLayout, b: int) -> dict[str, torch.Tensor]:
    """Random ids in the layout's places: encoder, decoder inputs, targets, weights."""
    gen = torch.Generator().manual_seed(0)
    semantic = torch.randint(0, 1024, (b, layout.semantic_frames), generator=gen).numpy()
    acoustic = torch.randint(0, 1024, (b, 4, layout.acoustic_frames), generator=gen).numpy()
    targets = layout.target_tokens(semantic, acoustic)
    enc = torch.from_numpy(layout.encoder_tokens(semantic))
    return {
        "enc": enc,
        "mask": torch.ones_like(enc),
        "dec": torch.from_numpy(layout.decoder_inputs(targets)),
        "target": torch.from_numpy(targets),
        "weights": torch.from_numpy(layout.loss_weights()).expand_as(torch.from_numpy(targets)),
    }


def main() -> None:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base" if cuda else "tiny")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--input-length", type=int, default=512 if cuda else 64)
    parser.add_argument("--target-length", type=int, default=3512 if cuda else 256)
    parser.add_argument(
        "--layout", choices=("flatten", "delay"), default="flatten",
        help="delay: the same clips as K streams (no transformers baseline: one stream only)",
    )  # fmt: skip
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if cuda else "cpu")
    result = measure(args, device)
    print(json.dumps({
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "threads": torch.get_num_threads(), **vars(args), **result,
        "speedup_vs_transformers": ratio(result, "bandmate", "transformers"),
        "valid_softmax_speedup": ratio(result, "bandmate_valid_softmax", "bandmate"),
    }, indent=2))  # fmt: skip


def ratio(result: dict[str, object], fast: str, slow: str) -> float | None:
    """tokens/s of `fast` over `slow`, when both ran."""
    a, b = result.get(fast), result.get(slow)
    if isinstance(a, dict) and isinstance(b, dict) and "tokens_per_s" in a and "tokens_per_s" in b:
        return float(a["tokens_per_s"]) / float(b["tokens_per_s"])
    return None


if __name__ == "__main__":
    main()
