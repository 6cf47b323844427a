"""`bandmate demo`: the built-in default end to end, offline, on a CPU.

Two modes:
- `shipped` (the default, `make demo`): render songs no shipped model was trained on,
  plus held-out Bach chorales, then generate for them with each model that ships in the
  package and evaluate; one report per model and a summary table.
- `train` (`make demo TRAIN=1`): the whole loop from scratch, synth -> tokenize (the
  shipped codec + spectral k-means) -> train a small model -> evaluate held-out songs.
Every stage is resumable: running the demo again reuses what is already there.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bandmate.config import load_config, save_config, to_dict
from bandmate.data.clips import ClipConfig
from bandmate.errors import BandmateError, ConfigError
from bandmate.generate.defaults import DEFAULT_BATCHES

if TYPE_CHECKING:  # generate's module imports torch: the demo's CLI starts without it
    from bandmate.generate.accompanist import GenerateConfig

log = logging.getLogger(__name__)


# What the demo trains: the tiny preset, 14 minutes on a 2-core AMD EPYC VM, with the
# shipped models' aligned input (configs/shipped.yaml).
DEMO_TRAIN: dict[str, Any] = {
    "steps": 300,
    "batch_size": 8,
    "eval_every": 50,
    "eval_batches": 2,
    "checkpoint_every": 150,
    "log_every": 20,
    "model": {"preset": "tiny", "dropout": 0.0, "aligned_input": True},
    "optim": {"name": "adamw", "lr": 1e-3, "schedule": "cosine", "warmup_steps": 30},
}


# The held-out songs of the shipped mode: procedural bands and folk tunes of another
# seed than the shipped models' training data; chorales are evaluated separately, on the
# chorales that training never used (synth source `chorale-heldout`).
HELD_OUT_SOURCES = (("band", 0.8), ("folk", 0.2))
# Out-of-distribution check: bass models on chorale bass lines played on tuba or bassoon,
# instruments training never used as a bass input. Drum models have no chorale input.
OOD_INPUT = "tuba,bassoon"
OOD_PRESETS = ("bass-to-instrumental", "bass-to-instrumental-events")
WEIGHTS_STAMP = "weights.sha256"  # in each report: the checkpoint and settings it was made with


@dataclass(frozen=True)
class DemoConfig:
    out: str = "runs/demo"  # everything goes under this folder
    mode: str = "shipped"  # shipped: evaluate the shipped models | train: train one first
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
    # Accompaniments sampled per clip, as `bandmate generate` samples them: the report
    # gives the first (a single try, the headline) and the one generate keeps (`kept`).
    # None: generate's defaults (each checkpoint's own number, else 8; drawing as many
    # more while none is judged music, up to 4 x that). Both 1: single tries only.
    candidates: int | None = None
    max_candidates: int | None = None


def _stage(name: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    print(f"\n== {name}", flush=True)
    result = work()
    print(f"   {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    return result


def synth_stage(
    config: DemoConfig,
    root: Path,
    songs: int,
    seed: int,
    sources: tuple[tuple[str, float], ...] | None = None,
    timbres: str = "single",
) -> None:
    """Render `songs` songs into `root` (kept if already there).

    Args:
        timbres: `single` (TimGM6mb, dry) unless the reserved set is asked for: the shipped
            models were trained on single-font renders, and the demo's figures compare
            with theirs, so neither the training nor the held-out sets take synth's
            `varied` default (issue #34).
    """
    from bandmate.synth.dataset import DEFAULT_SOURCES, SynthSettings, synthesize

    if (root / "Metadata").is_dir():
        print(f"   reusing {root}")
        return
    settings = SynthSettings(
        songs, seed, sources or DEFAULT_SOURCES, clip_seconds=config.song_seconds, timbres=timbres
    )
    # The reserved fonts take up to 2 GB per process (MuseScore_General): one worker.
    report = synthesize(root, settings, jobs=1 if timbres == "reserved" else 2)
    print(
        f"   {report.songs} songs, {report.audio_seconds / 60:.1f} min of audio, "
        f"{report.speed:.0f}x real time"
    )


def reserved_stage(config: DemoConfig, root: Path) -> bool:
    """Render the held-out songs again (same seed, same notes) with the reserved timbres
    (FluidR3, MuseScore General, avldrums kits; `bandmate.data.reserved`), which no
    training may use: the two sets differ in timbre only. False, with one line saying how
    to install them, where none is installed."""
    from bandmate.data.reserved import find_reserved_soundfonts, unavailable_message

    if not (root / "Metadata").is_dir() and not find_reserved_soundfonts()[0]:
        print(f"   skipped: {unavailable_message()}")
        return False
    synth_stage(config, root, config.eval_songs, config.seed + 1, HELD_OUT_SOURCES, "reserved")
    return True


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


def evaluate_stage(
    config: DemoConfig,
    root: Path,
    run: Path | str,
    report: Path,
    input_labels: str = "",
    reuse: bool = False,
) -> dict[str, Any]:
    """Evaluate `run` on every song of `root`; with `reuse`, an existing report stands
    when it was made with the same weights and settings (a shipped model changes only
    when the package does)."""
    import json

    from bandmate.evaluate.run import EvaluateConfig, evaluate

    # split=all: no song of root was trained on
    settings = EvaluateConfig(
        clips=config.eval_clips,
        split="all",
        generate=generate_settings(config),
        input=input_labels,
    )
    stamp = report / WEIGHTS_STAMP
    settings_json = json.dumps(to_dict(settings), sort_keys=True)
    digest = f"{weights_digest(run)} {judges_digest()} {settings_json}"
    if reuse and (report / "metrics.json").is_file():
        if stamp.is_file() and stamp.read_text().strip() == digest:
            print(f"   reusing {report}")
            return dict(json.loads((report / "metrics.json").read_text()))
        print(f"   {report} was made with other weights or settings: evaluating again")
    metrics = evaluate(run, root, report, settings, "cpu")
    stamp.write_text(digest + "\n")
    return metrics


def generate_settings(config: DemoConfig) -> GenerateConfig:
    """How the demo samples: as `bandmate generate [--candidates N] [--max-candidates M]`
    (a limit below the candidates drawn at a time is an error, as in generate)."""
    from bandmate.generate.accompanist import GenerateConfig

    try:
        return GenerateConfig(
            candidates=config.candidates,
            max_candidates=config.max_candidates,
            candidate_batches=DEFAULT_BATCHES,
        )
    except ValueError as error:
        raise ConfigError(f"demo: {error}") from None


def judges_digest() -> str:
    """sha256 of the code that measures (bandmate.metrics, evaluate's run and rule
    baseline): a report made by other judges is made again, not reused."""
    import bandmate.evaluate
    import bandmate.metrics

    files = sorted(Path(bandmate.metrics.__file__).parent.glob("*.py"))
    evaluate = Path(bandmate.evaluate.__file__).parent
    digest = hashlib.sha256()
    for file in [*files, evaluate / "run.py", evaluate / "rule.py"]:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def weights_digest(run: Path | str) -> str:
    """sha256 of the weights `run` resolves to (a checkpoint, run directory or
    `bandmate:PRESET`) and of its model.json, whose meta holds the sampling defaults
    (guidance, candidates): whether a report was made with them."""
    from bandmate.checkpoint_files import MODEL_JSON, WEIGHTS, resolve_checkpoint

    checkpoint = resolve_checkpoint(run)
    digest = hashlib.sha256((checkpoint / WEIGHTS).read_bytes())
    digest.update((checkpoint / MODEL_JSON).read_bytes())
    return digest.hexdigest()


def run_demo(config: DemoConfig) -> dict[str, Any]:
    """Run the configured mode; returns {row label: evaluation metrics}."""
    if config.mode == "shipped":
        return run_shipped(config)
    return {"generated": run_training_demo(config)}


def run_shipped(config: DemoConfig) -> dict[str, Any]:
    """Evaluate every shipped model on songs and chorales none of them was trained on."""
    from bandmate.checkpoint_files import shipped_presets

    presets = shipped_presets()
    if not presets:
        raise BandmateError("this installation ships no model; run `make demo TRAIN=1`")
    out = Path(config.out)
    # Not the train mode's data-held-out: that one has chorales a shipped model may know.
    held_out, chorales = out / "data-songs", out / "data-chorales"
    reserved = out / "data-reserved"
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "demo.yaml")
    _stage(
        "synth: render songs no shipped model was trained on",
        lambda: synth_stage(config, held_out, config.eval_songs, config.seed + 1, HELD_OUT_SOURCES),
    )
    with_reserved = _stage(
        "synth: render the same songs with timbres training never used",
        partial(reserved_stage, config, reserved),
    )
    _stage(
        "synth: render held-out Bach chorales (bass voice on tuba or bassoon)",
        lambda: synth_stage(
            config, chorales, config.eval_songs, config.seed + 2, (("chorale-heldout", 1.0),)
        ),
    )
    rows: dict[str, Any] = {}
    reports: list[Path] = []
    for preset in presets:
        spec, report = f"bandmate:{preset}", out / "report" / preset
        rows[preset] = _stage(
            f"evaluate {spec} on the held-out songs",
            partial(evaluate_stage, config, held_out, spec, report, reuse=True),
        )
        reports.append(report)
        if with_reserved:
            report = out / "report" / f"{preset}-reserved"
            rows[f"{preset} (reserved timbres)"] = _stage(
                f"evaluate {spec} on the reserved-timbre songs",
                partial(evaluate_stage, config, reserved, spec, report, reuse=True),
            )
            reports.append(report)
        if preset in OOD_PRESETS:
            report = out / "report" / f"{preset}-chorales"
            rows[f"{preset} (chorales)"] = _stage(
                f"evaluate {spec} on held-out chorales",
                partial(evaluate_stage, config, chorales, spec, report, OOD_INPUT, reuse=True),
            )
            reports.append(report)
    print_table(rows, reports)
    return rows


def run_training_demo(config: DemoConfig) -> dict[str, Any]:
    """Train a small model from scratch and evaluate it; returns its metrics."""
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
    print_table({"generated": metrics}, [report])
    return dict(metrics)


# The demo's columns: what a listener would ask first (is it music, the right instrument,
# on the input's beat, in its key and chords, like a real part), then the fits.
TABLE_KEYS = (
    "outcome/music",
    "panel/role_plausible",
    "panel/beat_f",
    "panel/key",
    "panel/chords",
    "panel/realism/two_sample_accuracy",
    "fit/chroma_capped",
    "fit/rhythm_capped",
    "mirror/rhythm",
)
TABLE_SYSTEMS = ("single", "kept", "original", "shuffled", "codec", "rule")


def table_rows(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One report's rows: the single try (the headline), generate's choice, baselines."""
    rows = {"single": metrics}
    kept = {k.removeprefix("kept/"): v for k, v in metrics.items() if k.startswith("kept/")}
    if kept:
        rows["kept"] = kept
    rows.update(metrics.get("baselines", {}))
    return {name: rows[name] for name in TABLE_SYSTEMS if name in rows}


def print_table(rows: dict[str, Any], reports: list[Path]) -> None:
    """A markdown table: each report's single tries, generate's choice and baselines;
    then the path of each row's HTML report (only these: both modes may share one --out)."""
    header = ("report", "system", *TABLE_KEYS)
    print("\n| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|")
    for label, metrics in rows.items():
        for system, values in table_rows(metrics).items():
            cells = " | ".join(_cell(values.get(k)) for k in TABLE_KEYS)
            print(f"| {label} | {system} | {cells} |")
    for report in reports:
        print(f"report: {report / 'index.html'}")


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None or value != value:  # NaN: undefined
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


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
    if config.mode not in ("shipped", "train"):
        raise ConfigError(f"demo mode must be shipped or train, got {config.mode!r}")
    from_dict(TrainConfig, train_settings(config), "demo.train")
    return config
