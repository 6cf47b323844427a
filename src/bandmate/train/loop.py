"""The training loop: `train(config)` runs (or resumes) one run directory.

Every step is a pure function of (seed, step, weights, optimizer state, RNG state), all
of which checkpoints hold, so a resumed run repeats the uninterrupted one exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.distributed.tensor import DTensor
from tqdm import tqdm

from bandmate.config import save_config
from bandmate.errors import ConfigError
from bandmate.io import check_out_dir
from bandmate.model.t5 import T5, HeadGroup
from bandmate.train import checkpoints
from bandmate.train.config import TrainConfig
from bandmate.train.data import (
    Batch,
    TokenData,
    attention_mask,
    make_batch,
    open_token_data,
    train_batch,
)
from bandmate.train.distributed import (
    Env,
    all_sum,
    barrier,
    full_state,
    load_full_state,
    setup,
    teardown,
    wrap,
)
from bandmate.train.losses import (
    SUM_KEYS,
    head_groups,
    loss_terms,
    right_of,
    summarize,
    token_sums,
    valid_loss_terms,
)
from bandmate.train.metrics import METRICS_FILE, MetricsLog, plot_curves
from bandmate.train.optim import build_optimizer, lr_factor
from bandmate.train.toolkit import set_lr

log = logging.getLogger(__name__)


@dataclass
class Run:
    """What one process holds while training."""

    config: TrainConfig  # its model has the tokens' vocabulary and streams
    env: Env
    data: TokenData
    model: T5  # the model itself (evaluation, checkpoints); sharded in place under FSDP
    engine: torch.nn.Module  # what the step calls: the model or its DDP wrapper
    optimizer: torch.optim.Optimizer
    out: Path
    step: int = 0  # global batches done
    last_valid_loss: float | None = None
    last_valid: dict[str, float] = field(default_factory=dict)
    window: dict[str, torch.Tensor] = field(default_factory=dict)  # metric sums since last log
    grad_norms: list[torch.Tensor] = field(default_factory=list)  # since last log, pre-clip
    window_start: float = field(default_factory=time.perf_counter)
    window_paused_s: float = 0.0  # time in evaluation/checkpoints, left out of tokens/s
    groups: list[HeadGroup] | None = None  # softmax over valid ids only: per-range positions
    # input frame per decoder step (for aligned_input and aligned_semantic)
    query_frames: torch.Tensor | None = None


def autocast(config: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager[None]:
    """bf16 autocast on GPU (precision auto or bf16), or on CPU when asked for bf16."""
    on = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    if not on:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def to_device(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def build_run(config: TrainConfig, env: Env) -> Run:
    """Open the data, build model and optimizer, resume from the last checkpoint if any."""
    micro_batches = env.world * config.grad_accum
    if config.batch_size % micro_batches:
        raise ConfigError(
            f"batch_size {config.batch_size} must be a multiple of processes x grad_accum "
            f"({micro_batches})"
        )
    data = open_token_data(config.data)
    layout = data.layout
    # The tokens decide the vocabulary and the decoder's streams.
    model_config = dataclasses.replace(
        config.model, vocab_size=layout.vocab_size, num_streams=layout.num_streams
    )
    config = dataclasses.replace(config, model=model_config)
    torch.manual_seed(config.seed)  # the same initial weights in every process
    model = T5(model_config).to(env.device)
    last = checkpoints.last_checkpoint(config.out)
    if config.init and last is None:  # a resumed run has its own weights
        model.load_state_dict(checkpoints.initial_weights(
            config.init, model, layout, data.root, data.manifest
        ))  # fmt: skip
        log.info("initial weights from %s", config.init)
    engine = wrap(model, env)  # FSDP shards in place, so the optimizer comes after
    optimizer = build_optimizer(model, config.optim)
    torch.manual_seed(config.seed + 1 + env.rank)  # dropout differs between processes
    run = Run(config, env, data, model, engine, optimizer, Path(config.out))
    if config.softmax == "valid" and layout.kind == "events":
        raise ConfigError("softmax: valid needs fixed id ranges per step; events use full")
    if config.softmax == "valid":
        run.groups = head_groups(data.layout.position_ranges(), env.device)
    if layout.kind != "events":  # an events batch brings its own (data.event_batch)
        run.query_frames = torch.from_numpy(layout.input_frames()).to(env.device)
    if last is not None and not config.resume:
        raise ConfigError(f"{run.out}: holds checkpoints already; resume, or choose another out")
    if last is not None:
        weights, optim_state, trainer = checkpoints.load_training_state(last, env.rank)
        try:
            load_full_state(model, optimizer, weights, optim_state, env)
        except (RuntimeError, ValueError, KeyError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ConfigError(
                f"{last}: does not fit this config's model/optimizer ({first[:120]}); "
                "choose another out"
            ) from None
        run.step, run.last_valid_loss = int(trainer["step"]), trainer.get("valid_loss")
        if env.main:
            log.info("resuming from %s (step %d)", last, run.step)
    return run


def micro_step(run: Run, batch: Batch, sync: bool) -> dict[str, torch.Tensor]:
    """Forward and backward of one micro-batch; returns its metric sums.

    `sync` is False for all but the last micro-batch of an accumulation round, so
    gradients are reduced across processes once per update.
    """
    no_sync = getattr(run.engine, "no_sync", None)  # DDP
    context = contextlib.nullcontext() if sync or no_sync is None else no_sync()
    if run.env.sharded:  # FSDP2's counterpart of no_sync
        run.model.set_requires_gradient_sync(sync)  # type: ignore[operator]
    with context:
        with autocast(run.config, run.env.device):
            output = forward(run, run.engine, batch)
        loss, ce_sum, right = scored(run, output, batch, run.config.optim.z_loss)
        (loss / run.config.grad_accum).backward()
    return token_sums(right, batch, ce_sum)


def forward(run: Run, module: torch.nn.Module, batch: Batch) -> torch.Tensor | list[torch.Tensor]:
    """Teacher-forced logits of a batch through `module` (the model, or its DDP wrapper
    in training), per valid-id group with `softmax: valid` (see `T5.forward`)."""
    return module(
        batch["encoder_input_tokens"],
        batch["decoder_input_tokens"],
        attention_mask(batch),
        run.groups,
        batch.get("query_frames", run.query_frames),
    )


def scored(
    run: Run, output: torch.Tensor | list[torch.Tensor], batch: Batch, z_loss: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, CE sum, right) of a forward pass, full-vocabulary or valid-id softmax."""
    targets, weights = batch["decoder_target_tokens"], batch["decoder_loss_weights"]
    if run.groups is not None:
        assert isinstance(output, list)
        return valid_loss_terms(output, run.groups, targets, weights, z_loss)
    assert isinstance(output, torch.Tensor)
    loss, ce_sum = loss_terms(output, targets, weights, z_loss)
    return loss, ce_sum, right_of(output, batch)


def add_into(total: dict[str, torch.Tensor], sums: dict[str, torch.Tensor]) -> None:
    for key, value in sums.items():
        total[key] = total[key] + value if key in total else value


def train_step(run: Run) -> None:
    """One optimizer update over the global batch `run.step`."""
    config, env = run.config, run.env
    set_lr(run.optimizer, config.optim.lr * lr_factor(config.optim, run.step + 1, config.steps))
    micro_batches = env.world * config.grad_accum
    for accum in range(config.grad_accum):
        micro = accum * env.world + env.rank
        batch = train_batch(
            run.data, config.augment, config.seed, run.step, config.batch_size, micro, micro_batches
        )
        sums = micro_step(run, to_device(batch, env.device), accum == config.grad_accum - 1)
        add_into(run.window, sums)  # stays on the device: no host sync per step
    max_norm = config.optim.clip_norm if config.optim.clip_norm > 0 else float("inf")
    norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), max_norm)
    if isinstance(norm, DTensor):  # FSDP: a replicated distributed tensor
        norm = norm.full_tensor()
    run.grad_norms.append(norm.detach())
    run.optimizer.step()
    run.optimizer.zero_grad(set_to_none=True)
    run.step += 1


def valid_batches(run: Run) -> Iterator[tuple[Batch, bool]]:
    """This process's share of the validation split in fixed order, as (batch, counted).

    Every process runs the same number of forward passes (FSDP's are collective): one
    with nothing left gets a repeat of the first batch, marked not counted.
    """
    split = run.data.valid
    if split is None:
        return
    size = max(1, run.config.batch_size // (run.env.world * run.config.grad_accum))
    count, world = len(split), run.env.world
    rounds = -(-count // (size * world))  # ceil
    rounds = min(rounds, run.config.eval_batches) if run.config.eval_batches else rounds
    for index in range(rounds):
        start = (index * world + run.env.rank) * size
        counted = start < count
        indices = (
            np.arange(start, min(start + size, count)) if counted else np.arange(min(size, count))
        )
        yield make_batch(run.data, split, indices), counted


@torch.no_grad()
def evaluate(run: Run) -> dict[str, float]:
    """Teacher-forced validation loss and token accuracy over the valid split."""
    if run.data.valid is None:
        return {}
    run.model.eval()
    zero = torch.zeros((), dtype=torch.float64, device=run.env.device)
    sums = {k: zero for k in SUM_KEYS}
    for batch, counted in valid_batches(run):
        batch = to_device(batch, run.env.device)
        with autocast(run.config, run.env.device):
            output = forward(run, run.model, batch)
        _, ce_sum, right = scored(run, output, batch, 0.0)
        if counted:
            add_into(sums, token_sums(right, batch, ce_sum))
    run.model.train()
    return summarize(all_sum(sums, run.env), "valid")


def log_window(run: Run, metrics: MetricsLog | None) -> dict[str, float]:
    """Train metrics averaged since the last log line (summed over processes)."""
    sums = all_sum({k: v for k, v in run.window.items()}, run.env)
    elapsed = time.perf_counter() - run.window_start - run.window_paused_s
    values = summarize(sums, "train")
    values["train/lr"] = float(run.optimizer.param_groups[0]["lr"])
    values["train/tokens_per_s"] = float(sums["weight_sum"]) / max(elapsed, 1e-9)
    if run.grad_norms:  # the same in every process: gradients are reduced before clipping
        values["train/grad_norm"] = float(torch.stack(run.grad_norms).float().mean())
    run.window, run.grad_norms = {}, []
    run.window_start, run.window_paused_s = time.perf_counter(), 0.0
    if metrics is not None:
        metrics.write(run.step, values)
    return values


def save_checkpoint(run: Run) -> None:
    """All processes: stage, write RNG states, then the main process publishes."""
    staging = checkpoints.staging_dir(run.out, run.step)
    if run.env.main:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    barrier(run.env)
    checkpoints.write_rng(staging, run.env.rank)
    weights, optim_state = full_state(run.model, run.optimizer, run.env)  # collective
    barrier(run.env)
    if run.env.main:
        trainer = {"step": run.step, "valid_loss": run.last_valid_loss}
        checkpoints.write_checkpoint(
            staging, run.model, weights, optim_state, run.data.layout, run.config,
            (run.data.manifest, run.data.root), trainer,
        )  # fmt: skip
        checkpoints.publish(run.out, staging, run.step, run.last_valid_loss, run.config.keep_last)
    barrier(run.env)


def after_step(run: Run, metrics: MetricsLog | None, bar: tqdm) -> None:
    """Logging, validation, plots and checkpoints due after the step just taken."""
    config, final = run.config, run.step == run.config.steps
    if run.step % config.log_every == 0 or final:
        values = log_window(run, metrics)
        bar.set_postfix(
            loss=f"{values['train/loss']:.3f}", tok_s=f"{values['train/tokens_per_s']:.0f}"
        )
    paused = time.perf_counter()
    if run.step % config.eval_every == 0 or final:
        valid = evaluate(run)
        if valid:
            run.last_valid, run.last_valid_loss = valid, valid["valid/loss"]
            if metrics is not None:
                metrics.write(run.step, valid)
        if run.env.main:
            plot_curves(run.out / METRICS_FILE, run.out / "plots")
    if run.step % config.checkpoint_every == 0 or final:
        save_checkpoint(run)
    run.window_paused_s += time.perf_counter() - paused


def train(config: TrainConfig, stop_after: int | None = None) -> dict[str, float]:
    """Train (or resume) the run in `config.out`; returns the last validation metrics
    ({} when there is no valid split or no evaluation happened in this call).

    Args:
        config: the resolved training config.
        stop_after: stop once this global step is done, as if interrupted (tests).
    """
    check_out_dir(config.out, "out")  # before any work: a file named like it fails late
    env = setup(config.distributed)
    try:
        run = build_run(config, env)
        metrics = MetricsLog(run.out, run.step) if env.main else None
        if env.main:
            save_config(run.config, run.out / "config.yaml")
        bar = tqdm(
            total=config.steps, initial=run.step, desc="train", unit="step",
            disable=not (env.main and config.progress), dynamic_ncols=True,
        )  # fmt: skip
        run.model.train()
        while run.step < config.steps and (stop_after is None or run.step < stop_after):
            train_step(run)
            bar.update(1)
            after_step(run, metrics, bar)
        bar.close()
        if metrics is not None:
            metrics.close()
        return run.last_valid
    finally:
        teardown()
