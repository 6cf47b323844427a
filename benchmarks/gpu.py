"""The GPU targets in one command: generation and training speed of a preset, one JSON.

On one CUDA GPU with nothing downloaded (random weights; speed only), until `--budget-s`
is spent, most wanted first (`jobs`):

- generation seconds per clip (10 s: 500 semantic input tokens -> 500 semantic + 750
  frames x 4 codebooks; flatten 3501 decoder steps, delay 1254) of bandmate's decoder
  (`generate_targets`, top-k 250) for the flatten and delay layouts at batch 1 and 32,
  classifier-free guidance off and on (on doubles the rows), bf16 weights on CUDA
  (float32 on CPU), against transformers' `T5ForConditionalGeneration.generate` on the
  same weights (`model/hf.py`, generate_speed.py's runner) with
  `cache_implementation="static"` (which transformers compiles, with CUDA graphs, on
  CUDA) and, as time allows, plain `generate`. transformers decodes one stream, so the
  delay rows are compared with its flatten clip; its guidance rows decode the 2B rows
  (input + null input) without the contrast;
- training tokens/s and model FLOPs utilisation (train_throughput.py's step: forward,
  loss, backward, AdamW, bf16 autocast) at the thesis's lengths (input 512, output 3512)
  with the largest batch that fits, halving from 32, for bandmate and transformers' T5;
- peak memory per measurement and whether each target is met (base preset, thesis
  lengths, guidance off: flatten <= 1.0 s per clip at batch 1 and <= 0.1 s at batch 32,
  delay <= 0.3 s at batch 1).

Every measurement runs on its own: an error (out of memory, a failed compile) or the
budget running out mid-way is written into its entry and the next one runs. Each times
a first call (compile, graph capture, allocation) apart from the timed one, with the
GPU synchronised around both.

    benchmarks/gpu.sh gpu.json                               # the GPU run, under 8 minutes
    .venv/bin/python benchmarks/gpu.py --device cpu --quick  # CPU fallback: tiny, seconds
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import platform
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch
from generate_speed import hf_runner  # a sibling script: benchmarks/ is sys.path[0]
from train_throughput import clip_batch, clip_layout, make_step, step_flops

import bandmate
from bandmate.generate.decode import generate_targets
from bandmate.generate.sampling import SamplingConfig
from bandmate.model.config import PRESETS, preset_config
from bandmate.model.hf import to_hf_model
from bandmate.model.t5 import T5
from bandmate.tokens.layout import TokenLayout

SEMANTIC_HZ, ACOUSTIC_HZ = 50, 75  # the thesis's tokenizers: w2v-BERT 50 Hz, EnCodec 75 Hz
CODEBOOKS, CODEBOOK_SIZE, SEMANTIC_VOCAB = 4, 1024, 1024
GUIDANCE = 3.0  # any positive weight costs the same
NOTE = "random weights; speed only"
# Dense bf16 tensor-core peaks (no sparsity), FLOP/s, by device name; most specific first.
PEAK_BF16_FLOPS = (
    ("H100 PCIe", 756e12),
    ("H100 NVL", 835e12),
    ("H100", 989e12),
    ("H200", 989e12),
    ("A100", 312e12),
)
# (layout, batch, seconds per clip) at the thesis's lengths, base preset, guidance off.
TARGETS = (("flatten", 1, 1.0), ("flatten", 32, 0.1), ("delay", 1, 0.3))
MIN_START_S = 5.0  # a measurement starts only with this much of the budget left

Entry = dict[str, Any]
Work = Callable[[Entry], None]


@dataclass(frozen=True)
class Plan:
    """What one run measures."""

    device: torch.device
    dtype: torch.dtype  # generation weights: bf16 on CUDA, float32 on CPU
    preset: str
    quick: bool
    clip_seconds: float  # 10 s: 500 semantic frames and 750 acoustic frames
    batches: tuple[int, ...]  # clips per generation call
    train_lengths: tuple[int, int]  # encoder and flatten decoder tokens
    train_batch: int  # the first training batch tried, halved until it fits
    train_warmup: int  # untimed steps (the first one timed apart)
    train_steps: int  # timed steps

    def layout(self, kind: str, clip_seconds: float | None = None) -> TokenLayout:
        seconds = self.clip_seconds if clip_seconds is None else clip_seconds
        return TokenLayout(
            kind, SEMANTIC_VOCAB, CODEBOOKS, CODEBOOK_SIZE,
            round(seconds * SEMANTIC_HZ), round(seconds * ACOUSTIC_HZ),
        )  # fmt: skip

    @property
    def targets_apply(self) -> bool:
        return (
            self.preset == "base"
            and not self.quick
            and self.device.type == "cuda"
            and self.clip_seconds == 10.0
        )


class OutOfBudget(BaseException):
    """Raised inside a measurement when the budget is spent: a BaseException, so that no
    library's `except Exception` fallback (torch.compile has some) swallows it."""


@dataclass
class Budget:
    """Wall seconds for all measurements; `alarm` stops the one running when they end."""

    seconds: float
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.seconds - self.elapsed()

    @contextlib.contextmanager
    def alarm(self) -> Iterator[None]:
        """Raise OutOfBudget in the block once the budget is spent (SIGALRM: the main
        thread on POSIX; elsewhere the block runs to its end)."""
        if not hasattr(signal, "setitimer"):
            yield
            return

        def ring(signum: int, frame: FrameType | None) -> None:
            raise OutOfBudget

        previous = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, max(self.left(), 0.01))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


# ----- the device ---------------------------------------------------------------------
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_call(run: Callable[[], Any], device: torch.device) -> float:
    """Wall seconds of one call, the GPU synchronised before and after."""
    synchronize(device)
    start = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - start


def release(device: torch.device) -> None:
    """Free what the last measurement left: compiled graphs, cached blocks."""
    gc.collect()
    if device.type == "cuda":  # transformers compiles its static-cache decoder there only
        torch._dynamo.reset()
        torch.cuda.empty_cache()


def peak_flops(device: torch.device) -> tuple[float | None, str]:
    """The device's dense bf16 peak and where it came from."""
    if device.type != "cuda":
        return None, "none: no MFU on the CPU"
    name = torch.cuda.get_device_properties(device).name
    for key, flops in PEAK_BF16_FLOPS:
        if key in name:
            return flops, f"table of dense bf16 peaks (no sparsity): {key}"
    return None, f"unknown device {name!r}: no MFU (add its peak to PEAK_BF16_FLOPS)"


def device_report(device: torch.device) -> Entry:
    peak, source = peak_flops(device)
    report: Entry = {"type": device.type, "peak_bf16_flops": peak, "peak_source": source}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        report.update(
            name=props.name,
            memory_gb=props.total_memory / 1e9,
            multiprocessors=props.multi_processor_count,
            capability=f"{props.major}.{props.minor}",
        )
    else:
        report.update(
            name=platform.processor() or platform.machine(), threads=torch.get_num_threads()
        )
    return report


def versions() -> Entry:
    try:
        import transformers

        hf_version: str | None = transformers.__version__
    except ImportError:
        hf_version = None
    return {
        "bandmate": bandmate.__version__,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "transformers": hf_version,
        "python": platform.python_version(),
    }


# ----- running one measurement --------------------------------------------------------
def run_entry(entry: Entry, work: Work, budget: Budget, device: torch.device) -> Entry:
    """Run `work(entry)`, which fills in its figures; record an error or the budget's end
    instead of raising, with the wall time and peak memory either way."""
    if budget.left() < MIN_START_S:
        entry["skipped"] = f"budget of {budget.seconds:g} s spent"
        return entry
    progress(budget, f"{entry['name']} ...")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    try:
        with budget.alarm():
            work(entry)
    except OutOfBudget:
        entry["error"] = f"stopped: budget of {budget.seconds:g} s spent"
    except Exception as exc:  # an OOM or a failed compile must not lose the other figures
        lines = str(exc).strip().splitlines()
        entry["error"] = f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"
    with contextlib.suppress(Exception):  # after a CUDA error this raises it again
        synchronize(device)
    entry["wall_s"] = time.perf_counter() - start
    entry["peak_memory_gb"] = (
        torch.cuda.max_memory_allocated() / 1e9 if device.type == "cuda" else None
    )
    release(device)
    progress(budget, f"{entry['name']}: {entry.get('error') or 'done'}")
    return entry


def progress(budget: Budget, message: str) -> None:
    print(f"[gpu.py {budget.elapsed():6.1f} s] {message}", file=sys.stderr, flush=True)


# ----- generation ---------------------------------------------------------------------
class Models:
    """The random bandmate T5 of a layout (seed 0, eval, plan dtype), built on the device
    on first use; one at a time, so that a measurement's peak memory holds one model."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.built: dict[str, T5] = {}

    def get(self, kind: str) -> T5:
        if kind not in self.built:
            self.clear()
            layout = self.plan.layout(kind)
            torch.manual_seed(0)
            config = preset_config(
                self.plan.preset, layout.vocab_size, num_streams=layout.num_streams, dropout=0.0
            )
            with self.plan.device:  # initialised there: seconds fewer for the base preset
                model = T5(config)
            self.built[kind] = model.to(dtype=self.plan.dtype).eval()
        return self.built[kind]

    def clear(self) -> None:
        self.built.clear()
        release(self.plan.device)


def encoder_ids(layout: TokenLayout, batch: int, device: torch.device) -> torch.Tensor:
    """Random input clips: encoder ids [B, F_sem + 1] (the same for every system)."""
    ids = np.random.default_rng(0).integers(0, SEMANTIC_VOCAB, (batch, layout.semantic_frames))
    return torch.from_numpy(layout.encoder_tokens(ids)).to(device)


def record_calls(entry: Entry, run: Callable[[], Any], device: torch.device, clips: int) -> None:
    """A first call (compile, graph capture), then the timed call, per clip."""
    entry["first_call_s"] = timed_call(run, device)
    seconds = timed_call(run, device)
    entry["seconds_per_call"] = seconds
    entry["s_per_clip"] = seconds / clips
    entry["real_time_factor"] = seconds / clips / entry["clip_seconds"]


def generation_entry(plan: Plan, system: str, kind: str, batch: int, guidance: bool) -> Entry:
    layout = plan.layout(kind)
    name = f"generate {system} {kind} batch {batch}" + (" guidance" if guidance else "")
    return {
        "name": name,
        "system": system,
        "layout": kind,
        "batch": batch,
        "guidance": guidance,
        "rows": 2 * batch if guidance else batch,
        "decoder_steps": layout.target_steps,
        "clip_seconds": plan.clip_seconds,
        "dtype": str(plan.dtype).removeprefix("torch."),
    }


def bandmate_job(
    plan: Plan, models: Models, kind: str, batch: int, guidance: bool
) -> tuple[Entry, Work]:
    """bandmate's `generate_targets` (top-k 250; guidance contrasts 2B rows)."""
    entry = generation_entry(plan, "bandmate", kind, batch, guidance)

    def work(entry: Entry) -> None:
        model, layout = models.get(kind), plan.layout(kind)
        encoder = encoder_ids(layout, batch, plan.device)
        sampling = SamplingConfig(guidance=GUIDANCE if guidance else 0.0)

        def run() -> torch.Tensor:
            generator = torch.Generator(plan.device).manual_seed(0)
            return generate_targets(model, layout, encoder, sampling, generator)

        record_calls(entry, run, plan.device, batch)

    return entry, work


def hf_job(
    plan: Plan, models: Models, batch: int, guidance: bool, static: bool
) -> tuple[Entry, Work]:
    """transformers' generate on the flatten model's weights (generate_speed.hf_runner:
    the layout's mask as a logits processor, then top-k 250). With guidance it decodes
    the 2B rows bandmate's cache holds (input, then null input) and no contrast."""
    system = "hf_static" if static else "hf_generate"
    entry = generation_entry(plan, system, "flatten", batch, guidance)

    def work(entry: Entry) -> None:
        model, layout = models.get("flatten"), plan.layout("flatten")
        encoder = encoder_ids(layout, batch, plan.device)
        if guidance:
            null = torch.from_numpy(layout.null_input()).to(plan.device)
            encoder = torch.cat([encoder, null.expand_as(encoder)])
        run = hf_runner(model, layout, encoder, static)
        if static:
            record_calls(entry, run, plan.device, batch)
            return
        # Plain generate compiles nothing: a short warm-up, then one whole clip.
        short = plan.layout("flatten", clip_seconds=0.2)
        entry["first_call_s"] = timed_call(hf_runner(model, short, encoder, False), plan.device)
        entry["first_call_steps"] = short.target_steps
        seconds = timed_call(run, plan.device)
        entry.update(seconds_per_call=seconds, s_per_clip=seconds / batch)
        entry["real_time_factor"] = seconds / batch / plan.clip_seconds

    return entry, work


# ----- training -----------------------------------------------------------------------
def train_job(plan: Plan, models: Models, system: str) -> tuple[Entry, Work]:
    """Training steps at the thesis's lengths, the largest batch that fits (halving)."""
    input_length, target_length = plan.train_lengths
    layout = clip_layout("flatten", input_length, target_length)
    entry: Entry = {
        "name": f"train {system} flatten",
        "system": system,
        "layout": "flatten",
        "input_length": input_length,
        "target_length": target_length,
        "autocast": "bfloat16" if plan.device.type == "cuda" else None,
    }

    def work(entry: Entry) -> None:
        models.clear()  # the generation model's memory is not the training run's
        torch.manual_seed(0)
        config = preset_config(plan.preset, layout.vocab_size, dropout=0.0)
        with plan.device:
            ours = T5(config)
        model = (ours if system == "bandmate" else to_hf_model(ours)).to(plan.device).train()
        entry["params"] = sum(p.numel() for p in model.parameters())
        batch, step = fit_batch(entry, model, layout, plan)
        seconds = (
            sum(timed_call(step, plan.device) for _ in range(plan.train_steps)) / plan.train_steps
        )
        tokens = batch * layout.target_steps  # target tokens per step (one stream)
        flops = step_flops(config, batch, input_length, layout.target_steps)
        peak, _ = peak_flops(plan.device)
        entry.update(seconds_per_step=seconds, tokens_per_s=tokens / seconds)
        entry["model_flops_per_step"] = flops
        entry["mfu"] = flops / seconds / peak if peak else None

    return entry, work


def fit_batch(
    entry: Entry, model: torch.nn.Module, layout: TokenLayout, plan: Plan
) -> tuple[int, Callable[[], None]]:
    """Halve the batch from `plan.train_batch` until the warm-up steps fit in memory;
    the first step's seconds go to the entry."""
    batch, entry["out_of_memory_at"] = plan.train_batch, []
    while True:
        if plan.device.type == "cuda":  # the peak of the batch that fits, not of the last OOM
            torch.cuda.reset_peak_memory_stats()
        data = {k: v.to(plan.device) for k, v in clip_batch(layout, batch).items()}
        step = training_step(model, data, plan.device)
        try:
            entry["first_step_s"] = timed_call(step, plan.device)
            for _ in range(plan.train_warmup - 1):
                step()
            entry["batch"] = batch
            return batch, step
        except torch.OutOfMemoryError:
            entry["out_of_memory_at"].append(batch)
        del data, step  # outside the handler: its traceback no longer holds the tensors
        model.zero_grad(set_to_none=True)
        release(plan.device)
        if batch == 1:
            raise RuntimeError("batch 1 does not fit in memory")
        batch //= 2


def training_step(
    model: torch.nn.Module, data: dict[str, torch.Tensor], device: torch.device
) -> Callable[[], None]:
    """train_throughput.make_step for bandmate's T5 or transformers' (full softmax)."""
    if isinstance(model, T5):
        return make_step(lambda e, m, d: model(e, d, m), model, data, device)
    return make_step(
        lambda e, m, d: model(input_ids=e, attention_mask=m, decoder_input_ids=d).logits,
        model, data, device,
    )  # fmt: skip


# ----- the plan, the targets, the report ----------------------------------------------
def jobs(plan: Plan) -> list[tuple[Entry, Work]]:
    """Every measurement, most wanted first: the budget cuts the tail."""
    models = Models(plan)
    first, *others = plan.batches
    out = [bandmate_job(plan, models, kind, first, False) for kind in ("flatten", "delay")]
    out += [bandmate_job(plan, models, "flatten", batch, False) for batch in others]
    out += [hf_job(plan, models, first, False, static=True), train_job(plan, models, "bandmate")]
    out += [hf_job(plan, models, batch, False, static=True) for batch in others]
    out += [bandmate_job(plan, models, "delay", batch, False) for batch in others]
    out += [
        bandmate_job(plan, models, kind, batch, True)
        for kind in ("flatten", "delay")
        for batch in plan.batches
    ]
    out += [train_job(plan, models, "transformers")]
    out += [hf_job(plan, models, batch, True, static=True) for batch in plan.batches]
    out += [
        hf_job(plan, models, batch, guidance, static=False)
        for guidance in (False, True)
        for batch in plan.batches
    ]
    return out


def add_ratios(rows: list[Entry]) -> None:
    """Speed-ups of bandmate's rows over transformers' on the same batch and guidance
    (its flatten clip for the delay rows): their seconds per clip over ours."""
    seconds = {
        (r["system"], r["batch"], r["guidance"]): r["s_per_clip"] for r in rows if "s_per_clip" in r
    }
    for row in rows:
        if row["system"] != "bandmate":
            continue
        for system in ("hf_static", "hf_generate"):
            theirs = seconds.get((system, row["batch"], row["guidance"]))
            ours = row.get("s_per_clip")
            row[f"speedup_vs_{system}"] = theirs / ours if theirs and ours else None


def targets(plan: Plan, rows: list[Entry]) -> list[Entry]:
    """Each target with the measured seconds per clip and whether it is met (None where it
    was not measured, or the run is not the base preset at thesis lengths on a GPU)."""
    out = []
    for kind, batch, limit in TARGETS:
        row = next(
            (
                r
                for r in rows
                if r["system"] == "bandmate"
                and r["layout"] == kind
                and r["batch"] == batch
                and not r["guidance"]
            ),
            None,
        )
        measured = row.get("s_per_clip") if row else None
        met = measured <= limit if measured is not None and plan.targets_apply else None
        out.append(
            {"layout": kind, "batch": batch, "limit_s_per_clip": limit,
             "measured_s_per_clip": measured, "met": met}
        )  # fmt: skip
    return out


def make_plan(args: argparse.Namespace) -> Plan:
    device = pick_device(args.device)
    quick = args.quick
    batches = tuple(args.batch or ((1, 2) if quick else (1, 32)))
    return Plan(
        device=device,
        dtype=torch.bfloat16 if device.type == "cuda" else torch.float32,
        preset=args.preset or ("tiny" if quick else "base"),
        quick=quick,
        clip_seconds=args.clip_seconds or (0.2 if quick else 10.0),
        batches=batches,
        train_lengths=(32, 96) if quick else (512, 3512),
        train_batch=args.train_batch or (2 if quick else 32),
        train_warmup=1 if quick else 2,
        train_steps=2 if quick else 5,
    )


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu.py: --device cuda, but torch sees no CUDA device")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def settings(plan: Plan, budget: Budget) -> Entry:
    layout = plan.layout("flatten")
    return {
        "preset": plan.preset,
        "quick": plan.quick,
        "dtype": str(plan.dtype).removeprefix("torch."),
        "budget_s": budget.seconds,
        "clip_seconds": plan.clip_seconds,
        "semantic_frames": layout.semantic_frames,
        "acoustic_frames": layout.acoustic_frames,
        "codebooks": CODEBOOKS,
        "batches": list(plan.batches),
        "guidance_weight": GUIDANCE,
        "top_k": SamplingConfig().top_k,
        "train_input_length": plan.train_lengths[0],
        "train_target_length": plan.train_lengths[1],
        "train_steps": plan.train_steps,
        "targets_apply": plan.targets_apply,
    }


def measure(plan: Plan, budget: Budget) -> Entry:
    """Run every job within the budget; the report as one JSON-ready dict."""
    report: Entry = {
        "benchmark": "gpu",
        "note": NOTE,
        "device": device_report(plan.device),
        "versions": versions(),
        "settings": settings(plan, budget),
    }
    entries = [run_entry(entry, work, budget, plan.device) for entry, work in jobs(plan)]
    generation = [e for e in entries if e["name"].startswith("generate")]
    add_ratios(generation)
    report["generation"] = generation
    report["training"] = [e for e in entries if e["name"].startswith("train")]
    report["targets"] = targets(plan, generation)
    report["incomplete"] = [e["name"] for e in entries if "error" in e or "skipped" in e]
    report["elapsed_s"] = budget.elapsed()
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument(
        "--preset", choices=tuple(PRESETS), help="default: base (tiny with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="the CPU fallback: tiny preset, 0.2 s clips, batch 1 and 2, 2 training steps",
    )  # fmt: skip
    parser.add_argument(
        "--budget-s", type=float, default=450.0,
        help="start no measurement after this many seconds, and stop the one running",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, nargs="+", help="generation batches (default 1 32)")
    parser.add_argument("--clip-seconds", type=float, help="default 10 (0.2 with --quick)")
    parser.add_argument("--train-batch", type=int, help="first batch tried (default 32)")
    parser.add_argument(
        "--threads", type=int,
        help="CPU threads (default 1 on the CPU: small ops on a shared machine ran 15x "
        "slower on 2 threads than on 1)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> Entry:
    args = parse_args(argv)
    budget = Budget(args.budget_s)
    plan = make_plan(args)
    if args.threads or plan.device.type == "cpu":
        torch.set_num_threads(args.threads or 1)
    report = jsonable(measure(plan, budget))
    text = json.dumps(report, indent=2, allow_nan=False)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return report


def jsonable(value: Any) -> Any:
    """The report with numpy scalars as Python numbers and NaN or infinity as null, so
    that the JSON is strict."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


if __name__ == "__main__":
    main()
