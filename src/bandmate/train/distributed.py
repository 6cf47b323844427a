"""Process set-up for one or many processes (torchrun sets RANK/WORLD_SIZE/LOCAL_RANK).

Many processes use PyTorch's own engines: DistributedDataParallel (every process holds
the whole model) or FSDP2 `fully_shard` (weights, gradients and optimizer state sharded
per layer, for models too big to replicate). NCCL on GPUs, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from bandmate.errors import ConfigError
from bandmate.model.t5 import T5

ENGINES = ("ddp", "fsdp")


@dataclass(frozen=True)
class Env:
    rank: int
    world: int
    local_rank: int
    device: torch.device
    engine: str = "ddp"  # ddp | fsdp

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        return self.world > 1 and self.engine == "fsdp"


def setup(engine: str = "ddp") -> Env:
    """Read torchrun's environment, pick the device, start the process group if needed."""
    if engine not in ENGINES:
        raise ConfigError(f"distributed: unknown engine {engine!r}; use ddp or fsdp")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Env(rank, world, local_rank, device, engine)


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: Env) -> None:
    if env.world > 1:
        dist.barrier()


def all_sum(values: dict[str, torch.Tensor], env: Env) -> dict[str, torch.Tensor]:
    """Sum each scalar over processes (one collective for all of them)."""
    if env.world == 1:
        return values
    keys = sorted(values)
    packed = torch.stack([values[k].to(env.device, torch.float64) for k in keys])
    dist.all_reduce(packed)
    return dict(zip(keys, packed.cpu(), strict=True))


def wrap(model: T5, env: Env) -> nn.Module:
    """The module the training step calls: the model, DDP around it, or the model sharded
    in place by FSDP2 (one unit per layer, plus the root for embeddings and head)."""
    if env.world == 1:
        return model
    if env.sharded:
        from torch.distributed.fsdp import fully_shard

        for layer in [*model.encoder_layers, *model.decoder_layers]:
            fully_shard(layer)
        fully_shard(model)
        return model
    ids = [env.local_rank] if env.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def _full_options() -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=True)


def full_state(
    model: T5, optimizer: torch.optim.Optimizer, env: Env
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Whole model and optimizer state; collective under FSDP (complete on rank 0 only)."""
    if not env.sharded:
        return model.state_dict(), optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import (
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    options = _full_options()
    weights = get_model_state_dict(model, options=options)
    optim_state = get_optimizer_state_dict(model, optimizer, options=options)
    return cast(dict[str, torch.Tensor], weights), dict(optim_state)


def load_full_state(
    model: T5,
    optimizer: torch.optim.Optimizer,
    weights: dict[str, torch.Tensor],
    optim_state: dict[str, Any],
    env: Env,
) -> None:
    """Inverse of `full_state`: every process passes the whole state read from disk."""
    if not env.sharded:
        model.load_state_dict(weights, strict=True)
        optimizer.load_state_dict(optim_state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

    set_state_dict(
        model, optimizer, model_state_dict=dict(weights), optim_state_dict=optim_state,
        options=StateDictOptions(full_state_dict=True),
    )  # fmt: skip
