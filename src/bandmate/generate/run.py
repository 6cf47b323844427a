"""`bandmate generate`: input file(s) -> accompaniment.wav, mix.wav, generation.json.

Any soundfile-readable input (wav/flac/ogg/mp3), any rate, any channel count, any length.
The accompaniment has the input's rate and length; the mix adds it to the input with
matched loudness (same RMS as the input's) and is scaled down if it would clip.
With --candidates N, N accompaniments are sampled and the best is kept, by
`score = 2 * [outcome is music] + chroma similarity + 2 * rhythm similarity` to the input;
with --max-candidates M, N more are sampled while none so far is judged music, up to M.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.data.audio import peak_normalize, read_audio, resample, rms_db, to_mono, write_wav
from bandmate.errors import BandmateError
from bandmate.evaluate.fit import (
    FitFeatures,
    chroma_match,
    clip_chromas,
    fit_features,
    rhythm_match,
)
from bandmate.evaluate.outcome import classify_audio
from bandmate.generate.accompanist import Accompanist, GenerateConfig, Timings
from bandmate.io import atomic_write_text

log = logging.getLogger(__name__)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
SILENT_INPUT_DB = -60.0
# Rhythm counts twice in a candidate's score. The models already match the input's chords
# (chroma fit 0.9-1.8 on validation chorales and songs, best of 8) and fall short on its
# rhythm (0.52-0.58 on chorales): on validation sets weighing rhythm twice raised every
# preset's rhythm fit (+0.006 to +0.03 at best of 8) and cost only surplus chroma fit
# (-0.04 to -0.15), with outcome/music unchanged.
# benchmarks/candidate_choice.py's `best_of_by_rule` and the model card give the figures.
RHYTHM_WEIGHT = 2.0


def candidate_score(
    candidate: np.ndarray, source: FitFeatures, rate: int, chroma: np.ndarray | None = None
) -> dict[str, Any]:
    """Outcome class and fit similarities of one candidate (at `rate`) against the input's
    features (`fit_features`); `chroma`: the candidate's CQT chroma, if computed already."""
    outcome, _ = classify_audio(candidate, rate, chroma)
    features = fit_features(candidate, rate, chroma)
    chroma_fit, rhythm_fit = chroma_match(features, source), rhythm_match(features, source)
    score = 2.0 * (outcome == "music") + chroma_fit + RHYTHM_WEIGHT * rhythm_fit
    return {"outcome": outcome, "chroma": chroma_fit, "rhythm": rhythm_fit, "score": score}


def pick_candidate(
    candidates: np.ndarray, source: np.ndarray, rate: int
) -> tuple[int, list[dict[str, Any]]]:
    """The best of candidates [B, S] by `candidate_score` against the input source [S']
    (all at `rate`; only the input is used, so a user gets the same pick). Returns the
    index and every candidate's score."""
    scores = score_candidates(candidates[:, : source.size], fit_features(source, rate), rate)
    return best_candidate(scores), scores


def best_candidate(scores: list[dict[str, Any]]) -> int:
    """Index of the highest `candidate_score` (the first of equals)."""
    return int(np.argmax([s["score"] for s in scores]))


def score_candidates(
    candidates: np.ndarray, source: FitFeatures, rate: int
) -> list[dict[str, Any]]:
    """`candidate_score` of each candidate [B, S] (at `rate`, cut to the input's length)
    against the input's features."""
    chromas = clip_chromas(candidates, rate)  # the judge and the fit share them
    return [
        candidate_score(clip, source, rate, chroma)
        for clip, chroma in zip(candidates, chromas, strict=True)
    ]


@dataclass
class Choice:
    """What `draw_candidates` drew for one input, and the candidate it kept."""

    audio: np.ndarray  # [S] the kept candidate, at the codec's rate
    scores: list[dict[str, Any]]  # `candidate_score` of every candidate drawn, in order
    best: int  # index of the kept one in `scores`
    timings: Timings
    windows: int


def draw_candidates(
    accompanist: Accompanist, wav: np.ndarray, sample_rate_hz: int, config: GenerateConfig
) -> Choice:
    """Sample accompaniments of a mono input [S] `config.candidates` at a time, going on
    while none so far is judged music (up to `config.candidate_limit`), and keep the best
    by `candidate_score` against the input alone. Later batches continue the first one's
    random stream, so the first `candidates` are those a single batch would draw.

    Only the best so far is kept in memory: a long input's candidates are large."""
    rate = accompanist.codec.sample_rate_hz
    reference = resample(wav, sample_rate_hz, rate)
    source = fit_features(reference, rate)  # once for every batch
    generator = accompanist.generator(config)
    scores: list[dict[str, Any]] = []
    timings, best, kept = Timings(), 0, np.zeros(0, dtype=np.float32)
    batch = config.batch
    while True:
        audio, spent, windows = accompanist.accompany(
            wav, sample_rate_hz, replace(config, candidates=batch), generator
        )
        batch_scores = score_candidates(audio[:, : reference.size], source, rate)
        index = best_candidate(batch_scores)
        timings += spent
        if not scores or batch_scores[index]["score"] > scores[best]["score"]:
            best, kept = len(scores) + index, audio[index].copy()  # not a view of the batch
        scores += batch_scores
        remaining = config.candidate_limit - len(scores)
        if scores[best]["outcome"] == "music" or remaining <= 0:
            return Choice(kept, scores, best, timings, windows)
        batch = min(config.batch, remaining)
        log.info(
            "none of %d candidates judged music: drawing %d more (at most %d)",
            len(scores),
            batch,
            config.candidate_limit,
        )


def match_level(accompaniment: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale the accompaniment to the reference's RMS (unchanged if either is silent)."""
    target, current = rms_db(reference), rms_db(accompaniment)
    if not np.isfinite(target) or not np.isfinite(current):
        return accompaniment
    return (accompaniment * 10 ** ((target - current) / 20)).astype(np.float32)


def input_files(path: Path) -> list[Path]:
    """The input file, or every audio file of a folder (batch mode)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise BandmateError(f"{path}: no audio files ({', '.join(AUDIO_SUFFIXES)}) in folder")
        return files
    if not path.exists():
        raise BandmateError(f"{path}: input not found")
    return [path]


def load_input(path: Path) -> tuple[np.ndarray, int]:
    """Read an input (wav [C, S], rate); a silent or unreadable one is a `BandmateError`."""
    wav, rate = read_audio(path)
    if rms_db(to_mono(wav)) < SILENT_INPUT_DB:
        raise BandmateError(f"{path}: input is silent (below {SILENT_INPUT_DB:g} dBFS)")
    return wav, rate


def generate_one(
    accompanist: Accompanist,
    path: Path,
    out_dir: Path,
    config: GenerateConfig,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Generate for one file; outputs appear in `out_dir` only when all are complete."""
    started = time.perf_counter()
    config = accompanist.settings(config)  # the report names the guidance actually used
    wav, rate = load_input(path)  # [C, S]
    mono = to_mono(wav)
    choice = draw_candidates(accompanist, mono, rate, config)
    accompaniment = resample(choice.audio, accompanist.codec.sample_rate_hz, rate)[: mono.size]
    accompaniment = np.pad(accompaniment, (0, mono.size - accompaniment.size))
    accompaniment = match_level(accompaniment, mono)
    mix = peak_normalize(wav + accompaniment[None])
    report = {
        "input": str(path),
        "input_sample_rate_hz": rate,
        "input_channels": int(wav.shape[0]),
        "duration_s": mono.size / rate,
        "windows": choice.windows,
        "seed": config.seed,
        "settings": asdict(config),
        "candidates": choice.scores,
        "chosen_candidate": choice.best,
        "timings": {**choice.timings.as_dict(), "total_s": time.perf_counter() - started},
        **extra,
    }
    report["timings"]["real_time_factor"] = report["timings"]["total_s"] / report["duration_s"]
    write_outputs(out_dir, peak_normalize(accompaniment), mix, rate, report)
    return report


def write_outputs(
    out_dir: Path, accompaniment: np.ndarray, mix: np.ndarray, rate: int, report: dict[str, Any]
) -> None:
    """Write the three outputs into a temporary folder, then move them into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".generate-") as tmp:
        staging = Path(tmp)
        write_wav(staging / "accompaniment.wav", accompaniment, rate)
        write_wav(staging / "mix.wav", mix, rate)
        atomic_write_text(staging / "generation.json", json.dumps(report, indent=2) + "\n")
        for name in ("accompaniment.wav", "mix.wav", "generation.json"):
            shutil.move(staging / name, out_dir / name)


def generate_files(
    checkpoint: str | Path,
    inputs: str | Path,
    out: str | Path,
    config: GenerateConfig,
    device: str = "auto",
) -> list[dict[str, Any]]:
    """Generate for a file or a folder of files; a folder writes OUT/<input stem>/."""
    files = input_files(Path(inputs))
    for file in files:  # fail on a bad input before the model is loaded
        load_input(file)
    accompanist = Accompanist.from_checkpoint(checkpoint, device)
    extra = {
        "checkpoint": str(checkpoint),
        "codec_spec": accompanist.codec.spec,
        "semantic_spec": accompanist.semantic.spec,
        "device": str(accompanist.device),
    }
    batch = Path(inputs).is_dir()
    return [
        generate_one(accompanist, f, Path(out) / f.stem if batch else Path(out), config, extra)
        for f in _progress(files)
    ]


def _progress(files: Sequence[Path]) -> Sequence[Path]:
    if len(files) < 2:
        return files
    from tqdm import tqdm

    return tqdm(files, desc="generate", unit="file")
