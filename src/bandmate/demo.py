"""`bandmate demo`: the whole loop on the built-in default, offline, on a CPU.

synth (a small rendered dataset) -> tokenize (the shipped codec + spectral k-means)
-> train (a small model from scratch) -> evaluate (held-out songs) -> report.
Every stage is resumable: running the demo again reuses what is already there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bandmate.config import load_config, save_config
from bandmate.data.clips import ClipConfig

log = logging.getLogger(__name__)


# What the demo trains: the tiny preset, sized for ~8 minutes on two CPU cores.
DEMO_TRAIN: dict[str, Any] = {
    "steps": 300,
    "batch_size": 8,
    "eval_every": 50,
    "eval_batches": 2,
    "checkpoint_every": 150,
    "log_every": 20,
    "model": {"preset": "tiny", "dropout": 0.0},
    "optim": {"name": "adamw", "lr": 1e-3, "schedule": "cosine", "warmup_steps": 30},
}


@dataclass(frozen=True)
class DemoConfig:
    out: str = "runs/demo"  # everything goes under this folder
    songs: int = 60  # rendered training songs (90/5/5 split by song)
    eval_songs: int = 12  # songs rendered with another seed: held out from training entirely
    song_seconds: float = 20.0
    seed: int = 0
    preset: str = "bass-to-drums"
    clip_seconds: float = 4.0  # shorter than the thesis's 10 s to train on a CPU
    codec: str = "bandmate:default"  # the project's shipped codec
    semantic_clusters: int = 256
    # Overrides of DEMO_TRAIN, itself applied over bandmate.train.config.TrainConfig's
    # defaults: `--set train.steps=100` changes the steps and keeps the rest.
    train: dict[str, Any] = field(default_factory=dict)
    eval_clips: int = 12


def _stage(name: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    print(f"\n== {name}", flush=True)
    result = work()
    print(f"   {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    return result


def synth_stage(config: DemoConfig, root: Path, songs: int, seed: int) -> None:
    from bandmate.synth.dataset import SynthSettings, synthesize

    if (root / "Metadata").is_dir():
        print(f"   reusing {root}")
        return
    settings = SynthSettings(songs, seed, clip_seconds=config.song_seconds)
    report = synthesize(root, settings, jobs=2)
    print(
        f"   {report.songs} songs, {report.audio_seconds / 60:.1f} min of audio, "
        f"{report.speed:.0f}x real time"
    )


def tokenize_stage(config: DemoConfig, root: Path, tokens: Path) -> None:
    from bandmate.tokens.config import SemanticConfig, TokenizeConfig
    from bandmate.tokens.pipeline import tokenize_dataset

    settings = TokenizeConfig(
        dataset="medleydb",
        root=str(root),
        preset=config.preset,
        clips=ClipConfig(clip_seconds=config.clip_seconds),
        codec=config.codec,
        semantic=SemanticConfig(num_clusters=config.semantic_clusters),
        workers=2,
        seed=config.seed,
    )
    manifest = tokenize_dataset(settings, tokens, progress=True)
    print(f"   clips per split: {manifest.get('splits')}")


def train_stage(config: DemoConfig, tokens: Path, run: Path) -> None:
    from bandmate.config import from_dict, merge
    from bandmate.train.config import TrainConfig
    from bandmate.train.loop import train

    extra = {"out": str(run), "seed": config.seed, "data": {"tokens": str(tokens)}}
    settings = merge(train_settings(config), extra)
    train(from_dict(TrainConfig, settings, "demo.train"))


def evaluate_stage(config: DemoConfig, root: Path, run: Path, report: Path) -> dict[str, Any]:
    from bandmate.evaluate.run import EvaluateConfig, evaluate

    settings = EvaluateConfig(clips=config.eval_clips, split="all")  # no song of root trained on
    return evaluate(run, root, report, settings, "cpu")


def run_demo(config: DemoConfig) -> dict[str, Any]:
    """Run every stage; returns the evaluation metrics."""
    out = Path(config.out)
    root, held_out = out / "data", out / "data-held-out"
    tokens, run, report = out / "tokens", out / "train", out / "report"
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "demo.yaml")
    _stage(
        "synth: render a multitrack dataset",
        lambda: synth_stage(config, root, config.songs, config.seed),
    )
    _stage(
        "synth: render held-out songs (another seed) for evaluation",
        lambda: synth_stage(config, held_out, config.eval_songs, config.seed + 1),
    )
    _stage(
        "tokenize: clips -> semantic ids + codec codes",
        lambda: tokenize_stage(config, root, tokens),
    )
    _stage("train: T5 from scratch on the train split", lambda: train_stage(config, tokens, run))
    metrics = _stage(
        "evaluate: generate for the held-out songs",
        lambda: evaluate_stage(config, held_out, run, report),
    )
    print_summary(metrics, report)
    return dict(metrics)


def print_summary(metrics: dict[str, Any], report: Path) -> None:
    keys = ("token_accuracy", "outcome/music", "fit/chroma", "fit/rhythm")
    rows = {"generated": metrics, **metrics.get("baselines", {})}
    print("\n| system | " + " | ".join(keys) + " |\n|---" * 1 + "|---" * len(keys) + "|")
    for name, values in rows.items():
        cells = [f"{values[k]:.3f}" if isinstance(values.get(k), float) else "–" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nreport: {report / 'index.html'}")


def train_settings(config: DemoConfig) -> dict[str, Any]:
    """TrainConfig fields: its defaults, then DEMO_TRAIN, then the user's `train.*`."""
    from bandmate.config import merge, to_dict
    from bandmate.train.config import TrainConfig

    return merge(merge(to_dict(TrainConfig()), DEMO_TRAIN), config.train)


def load_demo_config(path: str | None, overrides: list[str]) -> DemoConfig:
    """The demo's config; a bad `train.*` key fails here, before any stage runs."""
    from bandmate.config import from_dict
    from bandmate.train.config import TrainConfig

    config = load_config(DemoConfig, path, overrides)
    from_dict(TrainConfig, train_settings(config), "demo.train")
    return config
