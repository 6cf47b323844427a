"""Process set-up for one or many processes (torchrun sets RANK/WORLD_SIZE/LOCAL_RANK).

Many processes use PyTorch's DistributedDataParallel: NCCL on GPUs, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Env:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup() -> Env:
    """Read torchrun's environment, pick the device, start the process group if needed."""
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
    return Env(rank, world, local_rank, device)


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


def wrap(model: nn.Module, env: Env) -> nn.Module:
    """DDP around the model when there are several processes."""
    if env.world == 1:
        return model
    ids = [env.local_rank] if env.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)
