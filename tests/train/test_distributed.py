"""Two gloo processes under torchrun (DDP or FSDP) match one process with the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import bandmate
from bandmate.train.loop import train
from bandmate.train.metrics import read_metrics

from .conftest import write_tokens
from .test_loop import BASE, CONFIGS, _config

SETS = ("steps=4", "batch_size=4", "model.dropout=0.0", "eval_every=2", "checkpoint_every=4")


@pytest.mark.parametrize(
    "engine", ["ddp", pytest.param("fsdp", marks=pytest.mark.slow)]
)  # fsdp: another 15 s of process start-up, so only with -m slow
def test_two_gloo_processes_match_one(tmp_path: Path, engine: str) -> None:
    tokens = write_tokens(tmp_path / "tokens")
    train(_config(tokens, tmp_path / "one", *SETS))
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(bandmate.__file__).parents[1]),
        "OMP_NUM_THREADS": "1",
    }
    sets = [f"data.tokens={tokens}", f"out={tmp_path / 'two'}", *BASE, *SETS]
    sets.append(f"distributed={engine}")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "bandmate", "train", str(CONFIGS / "tiny.yaml"),
        *[a for s in sets for a in ("--set", s)],
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    one = read_metrics(tmp_path / "one/metrics.jsonl")
    two = read_metrics(tmp_path / "two/metrics.jsonl")
    assert [r["step"] for r in one] == [r["step"] for r in two]
    for a, b in zip(one, two, strict=True):
        for key in ("train/loss", "train/accuracy", "valid/loss", "valid/accuracy"):
            if key in a:
                assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-5), key
    wa = load_file(str(tmp_path / "one/checkpoints/last/model.safetensors"))
    wb = load_file(str(tmp_path / "two/checkpoints/last/model.safetensors"))
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=1e-4, atol=1e-5)
