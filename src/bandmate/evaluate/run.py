"""`bandmate evaluate`: a checkpoint on held-out test clips -> metrics.json + index.html.

For each test clip, several parts are judged against the input:
- `single`: one sampled try (the first candidate drawn), the headline: nothing chose it;
- `kept`: what `bandmate generate`'s default choice keeps (when it draws more than one);
- baselines: `original` (the song's own part: 1 on the fits), `shuffled` (another song's:
  0), `codec` (the original through the codec: the ceiling of a codec-token model) and
  `rule` (root/fifth, kick/snare or triads on the input's tracked beats and key: the floor).
Each is classified (music/silence/noise) and compared with the input (chroma and rhythm
similarity; `fit/*` normalises between the baselines, DESIGN.md §4), and judged by the
panel (`bandmate.metrics.panel`: third-party MIR models that the choice never uses).
Token accuracy is measured with teacher forcing.
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
from bandmate.evaluate.report import spectrogram_png, write_html, write_tables
from bandmate.evaluate.rule import rule_accompaniment
from bandmate.generate.accompanist import Accompanist, GenerateConfig
from bandmate.generate.choice import draw_candidates
from bandmate.metrics.agreement import panel_role
from bandmate.metrics.outcome import classify_audio
from bandmate.metrics.panel import Panel, add_realism
from bandmate.metrics.similarity import (
    chroma_match,
    clip_chromas,
    fit_features,
    normalized_fit,
    rhythm_match,
)

log = logging.getLogger(__name__)
BASELINES = ("original", "shuffled", "codec", "rule")


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
    # The judge panel (third-party MIR models, DESIGN.md §4) and the rule baseline; off
    # only to save time where the panel is not what is measured.
    panel: bool = True


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


def _fit_length(wav: np.ndarray, n: int) -> np.ndarray:
    return np.pad(wav[:n], (0, max(0, n - wav.size))).astype(np.float32)


def clip_audio(
    acc: Accompanist, test: TestClip, config: GenerateConfig
) -> tuple[dict[str, np.ndarray], int]:
    """input / original / shuffled / single (/ kept), mono at the codec's rate, same
    length; and how many candidates were drawn.

    `single` is the first candidate drawn: one sampled try, chosen by nothing. `kept` is
    the candidate `bandmate generate` would keep (`draw_candidates`: scored against the
    input alone, never the original); present only when the config draws more than one."""
    audio = reference_audio(acc, test)
    choice = draw_candidates(acc, test.clip.input, test.clip.sample_rate_hz, config)
    n = audio["input"].size
    audio["single"] = _fit_length(choice.first, n)
    if config.candidate_limit > 1:
        audio["kept"] = _fit_length(choice.audio, n)
    return audio, len(choice.scores)


def codec_audio(acc: Accompanist, wav: np.ndarray) -> np.ndarray:
    """A clip [S] at the codec's rate passed through the codec (encode, decode): the best
    a model that emits these codes can sound."""
    with torch.no_grad():
        codes = acc.codec.encode(torch.from_numpy(wav)[None].to(torch.float32))
        decoded = acc.codec.decode(codes)[0].float().numpy()
    return _fit_length(decoded.reshape(-1), wav.size)


def clip_row(audio: dict[str, np.ndarray], rate: int) -> dict[str, Any]:
    """Outcome and similarities to the input of each system in `audio` but the input."""
    systems = [name for name in audio if name != "input"]
    row: dict[str, Any] = {}
    chromas = clip_chromas(np.stack([audio[name] for name in ("input", *systems)]), rate)
    source = fit_features(audio["input"], rate, chromas[0])
    for system, chroma in zip(systems, chromas[1:], strict=True):
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
    """Audio files (+ spectrogram) of one example and its examples.json record.

    `generated` is the single try (what the listening test plays: the model's quality,
    not the choice's); `kept` is the choice where there was one."""
    key = f"ex{index:03d}"
    folder = out / "audio" / key
    named = {"generated": audio["single"], **{k: v for k, v in audio.items() if k != "single"}}
    files = {}
    for name, wav in named.items():
        write_wav(folder / f"{name}.wav", peak_normalize(wav), rate)
        files[name] = f"audio/{key}/{name}.wav"
    for name in ("generated", "original", "shuffled"):
        write_wav(folder / f"input+{name}.wav", peak_normalize(audio["input"] + named[name]), rate)
        files[f"input+{name}"] = f"audio/{key}/input+{name}.wav"
    example = {
        "id": key,
        "song": test.clip.song_id,
        "start_s": test.clip.start_s,
        "shuffled_song": test.shuffled_song,
        "outcome": row["outcome/single"],
        "outcome_original": row["outcome/original"],
        "outcome_shuffled": row["outcome/shuffled"],
        "files": files,
    }
    if with_image:
        shown = ("input", "single", "kept", "original", "codec")
        spectrogram_png(
            folder / "spectrogram.png", {k: audio[k] for k in shown if k in audio}, rate
        )
        example["spectrogram"] = f"audio/{key}/spectrogram.png"
    return example


# A clip's part "mirrors" the input when it is more similar to the input than the song's
# own part is by more than this: it copies the input's envelope or chroma rather than
# playing along (generated drums that follow the bass's envelope scored a rhythm
# similarity of 0.75 against the real drums' 0.46). Calibrated on validation songs with
# benchmarks/mirror_margin.py: another song's part (which cannot copy the input) clears it
# in at most 2% of clips for rhythm and 4% for chroma (bass -> drums, drums -> bass,
# bass -> instrumental; 48 clips each, synth seed 4242).
MIRROR_MARGIN = 0.1


def system_metrics(rows: list[dict[str, Any]], system: str) -> dict[str, Any]:
    """Outcome shares, similarities and fits of one system over the clips.

    `fit/*_capped` counts a clip's similarity at most at the original's, so copying the
    input cannot lift it above 1; `mirror/*`: the share of clips more similar to the input
    than the original by MIRROR_MARGIN."""
    counts = Counter(r[f"outcome/{system}"] for r in rows)
    metrics: dict[str, Any] = {
        f"outcome/{c}": counts[c] / len(rows) for c in ("music", "silence", "noise")
    }
    for kind in ("chroma", "rhythm"):
        own, original, shuffled = (
            [r[f"{kind}/{s}"] for r in rows] for s in (system, "original", "shuffled")
        )
        capped = [min(a, b) for a, b in zip(own, original, strict=True)]
        metrics[f"fit/{kind}"] = normalized_fit(own, original, shuffled)
        metrics[f"fit/{kind}_capped"] = normalized_fit(capped, original, shuffled)
        # Where the original is no closer to the input than another song's part (chroma
        # against drums) there is no scale to copy along: no mirror either.
        defined = metrics[f"fit/{kind}"] == metrics[f"fit/{kind}"]
        metrics[f"mirror/{kind}"] = mirror_share(own, original) if defined else float("nan")
        metrics[f"similarity/{kind}"] = float(np.mean(own))
    for key in sorted({k for r in rows for k in r if k.startswith(f"panel/{system}/")}):
        name = key.removeprefix(f"panel/{system}/")
        values = [r[key] for r in rows if r.get(key) is not None]
        metrics[f"panel/{name}"] = float(np.mean(values)) if values else float("nan")
    metrics["n_clips"] = len(rows)
    return metrics


def mirror_share(own: list[float], original: list[float]) -> float:
    """Share of clips whose similarity to the input exceeds the original's by
    MIRROR_MARGIN."""
    return float(np.mean([a > b + MIRROR_MARGIN for a, b in zip(own, original, strict=True)]))


def summarize(
    rows: list[dict[str, Any]], sums: dict[str, tuple[float, int]], systems: list[str]
) -> dict[str, Any]:
    """metrics.json: teacher-forced token figures; `single/...` (one sampled try per clip,
    the headline) and `kept/...` (generate's choice) where drawn; the thesis's unprefixed
    keys (DESIGN.md §3) as the single tries'; and each baseline under `baselines`."""
    means = {k: (s / n if n else float("nan")) for k, (s, n) in sums.items()}
    # How much worse the targets are predicted from another clip's input: ~0 for a model
    # that ignores its input, whatever its accuracy.
    means["input_gain"] = means.get("token_loss/other_input", float("nan")) - means.get(
        "token_loss", float("nan")
    )
    single = system_metrics(rows, "single")
    metrics: dict[str, Any] = {**means, **single}
    for system in ("single", "kept"):
        if system in systems:
            metrics.update({f"{system}/{k}": v for k, v in system_metrics(rows, system).items()})
    metrics["baselines"] = {s: system_metrics(rows, s) for s in systems if s in BASELINES}
    return metrics


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
    spec = _spec_of(acc.manifest, config.input)
    judge = Panel(panel_role(spec.target, spec.input), pitched=panel_role(spec.input) != "drums")
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    # An events checkpoint predicts notes: no codec tokens to score teacher-forced, and no
    # codec between it and its audio (its ceiling would be the original notes, rendered).
    codes = acc.layout.kind != "events"
    tokens = [clip_tokens(acc, test) for test in tests] if codes else []
    rows, examples, parts = [], [], defaultdict(list)
    for index, test in enumerate(tqdm(tests, desc="evaluate", unit="clip")):
        if codes:  # another clip's input (none when there is one clip: its gain stays undefined)
            other = tokens[(index + 1) % len(tests)][0] if len(tests) > 1 else None
            scores = token_scores(acc.model, acc.layout, *tokens[index], acc.device, other)
            for name, (total, n) in scores.items():
                sums[name][0] += total
                sums[name][1] += n
        audio, drawn = clip_audio(acc, test, config.generate)
        if codes:
            audio["codec"] = codec_audio(acc, audio["original"])
        panel: dict[str, Any] = {}
        if config.panel:
            analysis = judge.analyse(audio, rate)
            audio["rule"] = rule_accompaniment(
                audio["input"], rate, judge.role, beats=analysis.beats, key=analysis.key or None
            )
            panel = judge.clip(audio, rate, analysis)
        row = {**clip_row(audio, rate), **panel}
        for system, wav in audio.items():
            parts[system].append(wav)
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
        examples.append({**example, **_example_figures(row)})
    systems = [s for s in parts if s != "input"]
    metrics = summarize(rows, {k: (v[0], int(v[1])) for k, v in sums.items()}, systems)
    if config.panel:
        add_realism(metrics, judge.realism(parts, rate, seed=config.generate.seed))
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
    examples.sort(key=_worst_first)
    write_tables(out, metrics, rows, examples)
    summaries = {
        "single try": metrics,
        **({"kept (generate's choice)": _unprefixed(metrics, "kept")} if "kept" in systems else {}),
        **metrics["baselines"],
    }
    write_html(
        out,
        f"bandmate evaluation — {checkpoint}",
        summaries,
        examples,
        curves,
        notes=[
            f"{len(rows)} test clips of {len({r['song'] for r in rows})} songs from "
            f"{data} ({dataset}, split {config.split})",
            "single try: the first candidate drawn for each clip, chosen by nothing (the "
            "headline); kept: the candidate `bandmate generate` keeps by its score against "
            f"the input ({metrics['candidates_drawn']:.1f} drawn per clip on average), "
            "whose fits are partly the choice's own measure",
            "fit: 0 = another song's accompaniment (shuffled), 1 = the original; "
            "capped: each clip counted at most at the original's similarity; mirror: share "
            f"of clips more similar to the input than the original by {MIRROR_MARGIN}",
            "panel: third-party models the choice never uses (madmom beats, key and chords "
            "with mir_eval scores; role: is the part the instrument it should be; realism: "
            "distance from the real stems). codec: the original through the codec (the "
            "ceiling); rule: root/fifth, kick/snare or triads on the input's tracked beats "
            "and key (the floor)",
            "examples: worst single tries by panel/role_plausible first",
            f"Fréchet audio distance: {metrics['fad']}",
        ],
    )
    return metrics


def _unprefixed(metrics: dict[str, Any], system: str) -> dict[str, Any]:
    prefix = f"{system}/"
    return {k.removeprefix(prefix): v for k, v in metrics.items() if k.startswith(prefix)}


def _example_figures(row: dict[str, Any]) -> dict[str, Any]:
    """One example's fits (NaN where its two baselines coincide) and the single try's
    panel figures, for the report's cards."""
    figures = {
        f"fit/{kind}": normalized_fit(
            *[[row[f"{kind}/{system}"]] for system in ("single", "original", "shuffled")]
        )
        for kind in ("chroma", "rhythm")
    }
    prefix = "panel/single/"
    figures.update(
        {f"panel/{k.removeprefix(prefix)}": v for k, v in row.items() if k.startswith(prefix)}
    )
    return figures


def _worst_first(example: dict[str, Any]) -> tuple[float, str]:
    """Sort key: the single try's role plausibility, then beat agreement (missing first)."""

    def value(key: str) -> float:
        v = example.get(key)
        return -1.0 if v is None or v != v else float(v)

    return (value("panel/role_plausible") + value("panel/beat_f") / 10, example["id"])


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
