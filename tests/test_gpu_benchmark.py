"""benchmarks/gpu.py, the one command that proves the GPU targets: its CPU fallback runs
here and reports every figure, so the GPU command cannot rot unseen; the full GPU run
carries the `gpu` marker (deselected by default)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu.py"
WRAPPER = REPO / "benchmarks" / "gpu.sh"
GENERATION_KEYS = {
    "name", "system", "layout", "batch", "guidance", "rows", "decoder_steps", "clip_seconds",
    "dtype", "first_call_s", "seconds_per_call", "s_per_clip", "real_time_factor", "wall_s",
    "peak_memory_gb",
}  # fmt: skip
TIMES = ("first_call_s", "seconds_per_call", "s_per_clip", "real_time_factor", "wall_s")
TRAINING_KEYS = {
    "name", "system", "layout", "input_length", "target_length", "params", "batch",
    "out_of_memory_at", "first_step_s", "seconds_per_step", "tokens_per_s",
    "model_flops_per_step", "mfu", "wall_s", "peak_memory_gb",
}  # fmt: skip


def run_script(command: list[str], out: Path, timeout_s: float) -> dict[str, Any]:
    """Run the benchmark; its stdout and the file it writes hold the same JSON."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert json.loads(out.read_text()) == report
    return report


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def check_generation(rows: list[dict[str, Any]], batches: tuple[int, ...]) -> None:
    got = {(r["system"], r["layout"], r["batch"], r["guidance"]) for r in rows}
    systems = [("bandmate", "flatten"), ("bandmate", "delay"), ("hf_static", "flatten")]
    systems.append(("hf_generate", "flatten"))
    want = {(s, k, b, g) for s, k in systems for b in batches for g in (False, True)}
    assert got == want
    for row in rows:
        assert "error" not in row and "skipped" not in row, row
        assert row.keys() >= GENERATION_KEYS, row["name"]
        assert all(positive(row[key]) for key in TIMES), row
        assert row["rows"] == row["batch"] * (2 if row["guidance"] else 1)
        if row["system"] == "bandmate":
            assert positive(row["speedup_vs_hf_static"]), row
            assert positive(row["speedup_vs_hf_generate"]), row


@pytest.fixture(scope="module")
def gpu() -> ModuleType:
    """benchmarks/gpu.py as a module (its sibling scripts importable, as when it runs)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("gpu_benchmark", SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def test_quick_cpu_run_reports_every_figure(tmp_path: Path) -> None:
    """The wrapper, as CI can run it: every figure of the tiny preset, finite."""
    out = tmp_path / "gpu.json"
    report = run_script([str(WRAPPER), str(out), "--device", "cpu", "--quick"], out, 120)

    assert report["note"] == "random weights; speed only"
    assert report["device"]["type"] == "cpu" and report["device"]["peak_bf16_flops"] is None
    assert report["versions"]["torch"] and report["versions"]["transformers"]
    settings = report["settings"]
    assert settings["preset"] == "tiny" and settings["batches"] == [1, 2]
    assert settings["dtype"] == "float32" and not settings["targets_apply"]
    assert report["incomplete"] == [] and positive(report["elapsed_s"])
    check_generation(report["generation"], (1, 2))
    flatten = next(r for r in report["generation"] if r["name"].endswith("flatten batch 1"))
    assert flatten["decoder_steps"] == 10 + 4 * 15 + 1  # 0.2 s: 10 semantic, 15 frames
    assert [r["system"] for r in report["training"]] == ["bandmate", "transformers"]
    for row in report["training"]:
        assert row.keys() >= TRAINING_KEYS and "error" not in row, row
        assert row["batch"] == 2 and row["out_of_memory_at"] == []
        assert all(positive(row[k]) for k in ("seconds_per_step", "tokens_per_s", "params"))
        assert row["mfu"] is None and row["peak_memory_gb"] is None  # no peak on the CPU
    assert [(t["layout"], t["batch"], t["limit_s_per_clip"]) for t in report["targets"]] == [
        ("flatten", 1, 1.0), ("flatten", 32, 0.1), ("delay", 1, 0.3),
    ]  # fmt: skip
    assert all(t["met"] is None for t in report["targets"])  # tiny on a CPU proves nothing


def test_a_failing_measurement_is_recorded_and_the_next_runs(gpu: ModuleType) -> None:
    def out_of_memory(entry: dict[str, Any]) -> None:
        entry["first_call_s"] = 1.0
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore")

    budget, cpu = gpu.Budget(60.0), torch.device("cpu")
    failed = gpu.run_entry({"name": "a"}, out_of_memory, budget, cpu)
    assert failed["error"] == "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert failed["first_call_s"] == 1.0  # what it measured before failing stays
    done = gpu.run_entry({"name": "b"}, lambda entry: entry.update(s_per_clip=0.5), budget, cpu)
    assert done["s_per_clip"] == 0.5 and "error" not in done


def test_the_budget_stops_a_measurement_and_skips_the_rest(
    gpu: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forever(entry: dict[str, Any]) -> None:
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(gpu, "MIN_START_S", 0.1)
    budget, cpu = gpu.Budget(0.5), torch.device("cpu")
    stopped = gpu.run_entry({"name": "a"}, forever, budget, cpu)
    assert stopped["error"].startswith("stopped: budget") and stopped["wall_s"] < 2
    assert "skipped" in gpu.run_entry({"name": "b"}, forever, budget, cpu)


def test_speedups_pair_rows_of_the_same_batch_and_guidance(gpu: ModuleType) -> None:
    def row(system: str, layout: str, batch: int, s_per_clip: float) -> dict[str, Any]:
        return dict(system=system, layout=layout, batch=batch, guidance=False,
                    s_per_clip=s_per_clip)  # fmt: skip

    rows = [row("bandmate", "delay", 32, 0.1), row("hf_static", "flatten", 32, 0.4)]
    rows += [row("hf_static", "flatten", 1, 9.0), {**row("hf_generate", "flatten", 32, 0)}]
    del rows[-1]["s_per_clip"]  # plain generate failed
    gpu.add_ratios(rows)
    assert rows[0]["speedup_vs_hf_static"] == pytest.approx(4.0)
    assert rows[0]["speedup_vs_hf_generate"] is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_run_reports_the_targets(tmp_path: Path) -> None:
    """The command as the issue names it: base preset, thesis lengths, under 8 minutes."""
    out = tmp_path / "gpu.json"
    report = run_script([str(WRAPPER), str(out)], out, 480)

    assert report["device"]["type"] == "cuda" and report["settings"]["targets_apply"]
    assert report["settings"]["preset"] == "base" and report["elapsed_s"] < 470
    first = [r for r in report["generation"] if r["system"] == "bandmate" and r["batch"] == 1]
    assert first and all(positive(r.get("s_per_clip")) for r in first if not r["guidance"])
    assert all(isinstance(t["met"], bool) for t in report["targets"]), report["targets"]
    training = report["training"][0]
    assert positive(training.get("tokens_per_s")) and positive(training.get("mfu")), training
