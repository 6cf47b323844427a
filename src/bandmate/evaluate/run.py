"""`bandmate evaluate`: a checkpoint on held-out test clips -> metrics.json + index.html.

For each test clip: the generated accompaniment, the original one and a shuffled one
(another song's) are classified (music/silence/noise) and compared with the input
(chroma and rhythm similarity); `fit/*` normalises the generated similarity between the
two baselines (DESIGN.md §4). Token accuracy is measured with teacher forcing.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from bandmate.config import to_dict
from bandmate.data.audio import peak_normalize, resample, write_wav
from bandmate.data.clips import ClipConfig, SkipCounter
from bandmate.data.pairs import PairSpec
from bandmate.errors import BandmateError
from bandmate.evaluate.accuracy import token_scores
from bandmate.evaluate.clips import TestClip, select_clips, test_pairs
from bandmate.evaluate.fit import (
    chroma_match,
    clip_chromas,
    fit_features,
    normalized_fit,
    rhythm_match,
)
from bandmate.evaluate.outcome import classify_audio
from bandmate.evaluate.report import spectrogram_png, write_html, write_tables
from bandmate.generate.accompanist import Accompanist, GenerateConfig
from bandmate.generate.run import draw_candidates

log = logging.getLogger(__name__)
SYSTEMS = ("generated", "original", "shuffled")


@dataclass(frozen=True)
class EvaluateConfig:
    clips: int = 108  # test clips (the thesis listened to 108)
    dataset: str | None = None  # default: the dataset the checkpoint's tokens came from
    split: str = "test"
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    spectrograms: int = 24  # examples that get a spectrogram image (all get players)
    # Labels or roles of the input stems, instead of the checkpoint's (e.g. "tuba,bassoon"
    # to give a bass model bass lines played by instruments it never saw as input).
    input: str = ""


def _spec_of(manifest: dict[str, Any], input_override: str = "") -> PairSpec:
    pair = manifest.get("pair") or {}
    if not pair.get("input") or not pair.get("target"):
        raise BandmateError("checkpoint's tokens.json names no input/target pair")
    return PairSpec(input_override or str(pair["input"]), str(pair["target"]))


def dataset_of(acc: Accompanist, config: EvaluateConfig) -> str:
    """The layout of the evaluation data: the configured one, else the checkpoint's."""
    return config.dataset or acc.manifest.get("dataset") or "medleydb"


def select_test_clips(
    acc: Accompanist, data: str | Path, config: EvaluateConfig, skips: SkipCounter
) -> list[TestClip]:
    """The test clips of `data` for this checkpoint's pair (or `config.input`'s stems),
    of its clip length, each with another song's accompaniment."""
    pairs = test_pairs(
        dataset_of(acc, config), data, _spec_of(acc.manifest, config.input), config.split
    )
    return select_clips(pairs, ClipConfig(clip_seconds=acc.clip_seconds), config.clips, skips)


def reference_audio(acc: Accompanist, test: TestClip) -> dict[str, np.ndarray]:
    """input / original / shuffled, mono at the codec's rate, the input's length."""
    rate, clip = acc.codec.sample_rate_hz, test.clip
    source, original = clip.at_rate(rate)
    shuffled = resample(test.shuffled, clip.sample_rate_hz, rate)
    n = source.size
    return {"input": source, "original": original[:n], "shuffled": shuffled[:n]}


def clip_audio(
    acc: Accompanist, test: TestClip, config: GenerateConfig
) -> tuple[dict[str, np.ndarray], int]:
    """input / original / shuffled / generated, mono at the codec's rate, same length;
    and how many candidates were drawn.

    With more than one candidate the generated one is the candidate `bandmate generate`
    would keep (`draw_candidates`: scored against the input alone, never the original)."""
    audio = reference_audio(acc, test)
    choice = draw_candidates(acc, test.clip.input, test.clip.sample_rate_hz, config)
    n, generated = audio["input"].size, choice.audio
    audio["generated"] = np.pad(generated[:n], (0, max(0, n - generated.size)))
    return audio, len(choice.scores)


def clip_row(audio: dict[str, np.ndarray], rate: int) -> dict[str, Any]:
    """Outcome and similarities to the input of each system."""
    row: dict[str, Any] = {}
    chromas = clip_chromas(np.stack([audio[name] for name in ("input", *SYSTEMS)]), rate)
    source = fit_features(audio["input"], rate, chromas[0])
    for system, chroma in zip(SYSTEMS, chromas[1:], strict=True):
        row[f"outcome/{system}"], _ = classify_audio(audio[system], rate, chroma)
        features = fit_features(audio[system], rate, chroma)
        row[f"chroma/{system}"] = chroma_match(features, source)
        row[f"rhythm/{system}"] = rhythm_match(features, source)
    return row


def write_example(
    out: Path,
    index: int,
    test: TestClip,
    audio: dict[str, np.ndarray],
    rate: int,
    row: dict[str, Any],
    with_image: bool,
) -> dict[str, Any]:
    """Audio files (+ spectrogram) of one example and its examples.json record."""
    key = f"ex{index:03d}"
    folder = out / "audio" / key
    files = {}
    for name in ("generated", "original", "input", "shuffled"):
        write_wav(folder / f"{name}.wav", peak_normalize(audio[name]), rate)
        files[name] = f"audio/{key}/{name}.wav"
    for system in SYSTEMS:
        write_wav(
            folder / f"input+{system}.wav", peak_normalize(audio["input"] + audio[system]), rate
        )
        files[f"input+{system}"] = f"audio/{key}/input+{system}.wav"
    example = {
        "id": key,
        "song": test.clip.song_id,
        "start_s": test.clip.start_s,
        "shuffled_song": test.shuffled_song,
        "outcome": row["outcome/generated"],
        "outcome_original": row["outcome/original"],
        "outcome_shuffled": row["outcome/shuffled"],
        "files": files,
    }
    if with_image:
        spectrogram_png(
            folder / "spectrogram.png",
            {k: audio[k] for k in ("input", "generated", "original")},
            rate,
        )
        example["spectrogram"] = f"audio/{key}/spectrogram.png"
    return example


def summarize(rows: list[dict[str, Any]], sums: dict[str, tuple[float, int]]) -> dict[str, Any]:
    """metrics.json: the generated system's keys (DESIGN.md §3) plus both baselines."""

    def system_metrics(system: str) -> dict[str, Any]:
        counts = Counter(r[f"outcome/{system}"] for r in rows)
        metrics: dict[str, Any] = {
            f"outcome/{c}": counts[c] / len(rows) for c in ("music", "silence", "noise")
        }
        for kind in ("chroma", "rhythm"):
            metrics[f"fit/{kind}"] = normalized_fit(
                *[[r[f"{kind}/{s}"] for r in rows] for s in (system, "original", "shuffled")]
            )
            metrics[f"similarity/{kind}"] = float(np.mean([r[f"{kind}/{system}"] for r in rows]))
        metrics["n_clips"] = len(rows)
        return metrics

    means = {k: (s / n if n else float("nan")) for k, (s, n) in sums.items()}
    # How much worse the targets are predicted from another clip's input: ~0 for a model
    # that ignores its input, whatever its accuracy.
    means["input_gain"] = means.get("token_loss/other_input", float("nan")) - means.get(
        "token_loss", float("nan")
    )
    return {
        **means,
        **system_metrics("generated"),
        "baselines": {s: system_metrics(s) for s in ("original", "shuffled")},
    }


def evaluate(
    checkpoint: str | Path,
    data: str | Path,
    out: str | Path,
    config: EvaluateConfig,
    device: str = "auto",
) -> dict[str, Any]:
    """Run the evaluation and write the report. Returns the metrics."""
    out = Path(out)
    acc = Accompanist.from_checkpoint(checkpoint, device)
    config = replace(config, generate=acc.settings(config.generate))  # reported as used
    dataset = dataset_of(acc, config)
    skips = SkipCounter()
    tests = select_test_clips(acc, data, config, skips)
    rate = acc.codec.sample_rate_hz
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    tokens = [clip_tokens(acc, test) for test in tests]
    rows, examples = [], []
    for index, test in enumerate(tqdm(tests, desc="evaluate", unit="clip")):
        # another clip's input (none when there is one clip: its gain stays undefined)
        other = tokens[(index + 1) % len(tests)][0] if len(tests) > 1 else None
        scores = token_scores(acc.model, acc.layout, *tokens[index], acc.device, other)
        for name, (total, n) in scores.items():
            sums[name][0] += total
            sums[name][1] += n
        audio, drawn = clip_audio(acc, test, config.generate)
        row = clip_row(audio, rate)
        rows.append(
            {
                "id": f"ex{index:03d}",
                "song": test.clip.song_id,
                "start_s": test.clip.start_s,
                "candidates_drawn": drawn,
                **row,
            }
        )
        example = write_example(out, index, test, audio, rate, row, index < config.spectrograms)
        examples.append(
            {
                **example,
                "fit/chroma": _clip_fit(row, "chroma"),
                "fit/rhythm": _clip_fit(row, "rhythm"),
            }
        )
    metrics = summarize(rows, {k: (v[0], int(v[1])) for k, v in sums.items()})
    metrics["candidates_drawn"] = float(np.mean([r["candidates_drawn"] for r in rows]))
    metrics["skipped_clips"] = dict(skips.counts)
    metrics["fad"] = "skipped: no audio embedding model is available offline"
    metrics["settings"] = {
        "checkpoint": str(checkpoint),
        "data": str(data),
        "dataset": dataset,
        **to_dict(config),
    }  # the resolved settings, to repeat the run
    curves = copy_curves(Path(checkpoint), out)
    write_tables(out, metrics, rows, examples)
    summaries = {"generated": metrics, **metrics["baselines"]}
    write_html(
        out,
        f"bandmate evaluation — {checkpoint}",
        summaries,
        examples,
        curves,
        notes=[
            f"{len(rows)} test clips of {len({r['song'] for r in rows})} songs from "
            f"{data} ({dataset}, split {config.split})",
            "fit: 0 = another song's accompaniment (shuffled), 1 = the original",
            f"Fréchet audio distance: {metrics['fad']}",
        ],
    )
    return metrics


def clip_tokens(acc: Accompanist, test: TestClip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw tokens of one clip made with the checkpoint's tokenizers: input semantic
    [1, F_sem], target semantic [1, F_sem], target codes [1, K, F_ac]."""
    sem_in, sem_out = test.clip.at_rate(acc.semantic.sample_rate_hz)
    _, codec_out = test.clip.at_rate(acc.codec.sample_rate_hz)
    with torch.no_grad():
        semantic = acc.semantic.encode(torch.from_numpy(np.stack([sem_in, sem_out]))).numpy()
        codes = acc.codec.encode(torch.from_numpy(codec_out)[None]).numpy()
    f_sem, f_ac = acc.layout.semantic_frames, acc.layout.acoustic_frames
    semantic = _fit_frames(semantic, f_sem)
    codes = _fit_frames(codes, f_ac)
    return semantic[:1], semantic[1:], codes


def _fit_frames(ids: np.ndarray, frames: int) -> np.ndarray:
    """Trim or edge-pad the last axis to `frames` (tokenizers may differ by a frame)."""
    ids = ids[..., :frames]
    pad = frames - ids.shape[-1]
    return np.pad(ids, [(0, 0)] * (ids.ndim - 1) + [(0, pad)], mode="edge") if pad else ids


def _clip_fit(row: dict[str, Any], kind: str) -> float:
    """One clip's normalised fit (NaN where its two baselines coincide)."""
    return normalized_fit(*[[row[f"{kind}/{system}"]] for system in SYSTEMS])


def copy_curves(checkpoint: Path, out: Path) -> list[str]:
    """Training-curve PNGs found beside the checkpoint (its folder or its run folder)."""
    found = []
    folders = (checkpoint, checkpoint.parent, checkpoint.parent.parent)
    for folder in (f for base in folders for f in (base, base / "plots")):
        for png in sorted(folder.glob("*.png")):
            target = out / "curves" / png.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(png, target)
            found.append(f"curves/{png.name}")
        if found:
            break
    return found
