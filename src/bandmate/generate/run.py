"""`bandmate generate`: input file(s) -> accompaniment.wav, mix.wav, generation.json.

Any soundfile-readable input (wav/flac/ogg/mp3), any rate, any channel count, any length.
The accompaniment has the input's rate and length; the mix adds it to the input with
matched loudness (same RMS as the input's) and is scaled down if it would clip.
With --candidates N, N accompaniments are sampled and the best is kept
(`bandmate.generate.choice`).

Every input is checked before the model loads (`load_input`): unreadable, truncated,
non-finite (NaN/inf samples), too short or silent audio stops the run with one line
naming the file, and nothing is written. So is an output folder that cannot be written.
A folder of inputs writes OUT/<file stem>/ per file; files that share a stem
(take.wav, take.flac) write OUT/<file name>/ instead (OUT/take.wav/, OUT/take.flac/), so
no result replaces another (`output_dirs`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.data.audio import (
    check_audio,
    peak_normalize,
    read_audio,
    to_mono,
    write_wav,
)
from bandmate.errors import BandmateError
from bandmate.generate.accompanist import Accompanist, GenerateConfig
from bandmate.generate.choice import accompany_input
from bandmate.generate.events import write_midi
from bandmate.io import atomic_write_text, check_out_dir

log = logging.getLogger(__name__)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
SILENT_INPUT_DB = -60.0
# Shorter inputs hold no beat or chord to follow, and the fit features' 2048-sample
# analysis window (0.09 s at 22.05 kHz) would not even fit one (librosa warns).
MIN_INPUT_SECONDS = 0.5


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
    """Read an input (wav [C, S], rate); one that is unreadable, truncated, holds NaN or
    infinite samples, is shorter than MIN_INPUT_SECONDS or silent is a `DataError`."""
    wav, rate = read_audio(path)
    check_audio(path, wav, rate, MIN_INPUT_SECONDS, SILENT_INPUT_DB)
    return wav, rate


def output_dirs(files: Sequence[Path], out: Path) -> list[Path]:
    """The output folder of each input of a folder: OUT/<stem>, or OUT/<file name> for
    inputs whose stems collide (case aside: on macOS or Windows `Take` and `take` are one
    folder), so that every input keeps its own result."""
    stems = Counter(f.stem.casefold() for f in files)
    dirs = [out / (f.name if stems[f.stem.casefold()] > 1 else f.stem) for f in files]
    seen: dict[str, Path] = {}
    for file, folder in zip(files, dirs, strict=True):
        other = seen.setdefault(folder.name.casefold(), file)
        if other != file:  # take.wav + take.wav.flac + take.flac: both want take.wav/
            raise BandmateError(f"{other} and {file} would both write {folder}; rename one")
    return dirs


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
    accompaniment, choice = accompany_input(accompanist, mono, rate, config)
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
    midi = None
    if choice.parts is not None and choice.grid is not None:
        parts, grid = choice.parts, choice.grid
        midi = lambda path: write_midi(str(path), parts, grid)  # noqa: E731
    write_outputs(out_dir, peak_normalize(accompaniment), mix, rate, report, midi)
    return report


def write_outputs(
    out_dir: Path,
    accompaniment: np.ndarray,
    mix: np.ndarray,
    rate: int,
    report: dict[str, Any],
    midi: Callable[[Path], None] | None = None,
) -> None:
    """Write the outputs into a temporary folder, then move them into `out_dir`
    (accompaniment.mid too when `midi` writes one: events checkpoints)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = ["accompaniment.wav", "mix.wav", "generation.json"]
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".generate-") as tmp:
        staging = Path(tmp)
        write_wav(staging / "accompaniment.wav", accompaniment, rate)
        write_wav(staging / "mix.wav", mix, rate)
        atomic_write_text(staging / "generation.json", json.dumps(report, indent=2) + "\n")
        if midi is not None:
            midi(staging / "accompaniment.mid")
            names.insert(0, "accompaniment.mid")
        for name in names:
            shutil.move(staging / name, out_dir / name)


def generate_files(
    checkpoint: str | Path,
    inputs: str | Path,
    out: str | Path,
    config: GenerateConfig,
    device: str = "auto",
) -> list[dict[str, Any]]:
    """Generate for a file or a folder of files.

    A file writes accompaniment.wav, mix.wav and generation.json into `out`; a folder
    writes them into OUT/<input stem>/ per input, or OUT/<input file name>/ for inputs
    that share a stem (take.wav and take.flac write OUT/take.wav/ and OUT/take.flac/).
    Every input and output folder is checked before the model loads, so a bad one stops
    the run with nothing written.

    Returns:
        each input's report (generation.json), plus `output`: the folder written.
    """
    files = input_files(Path(inputs))
    batch = Path(inputs).is_dir()
    dirs = output_dirs(files, Path(out)) if batch else [Path(out)]
    for folder in dirs:
        check_out_dir(folder)
    for file in files:  # fail on a bad input before the model is loaded
        load_input(file)
    accompanist = Accompanist.from_checkpoint(checkpoint, device)
    extra = {
        "checkpoint": str(checkpoint),
        "codec_spec": accompanist.codec.spec,
        "semantic_spec": accompanist.semantic.spec,
        "device": str(accompanist.device),
    }
    return [
        {**generate_one(accompanist, file, folder, config, extra), "output": str(folder)}
        for file, folder in _progress(list(zip(files, dirs, strict=True)))
    ]


def _progress(jobs: Sequence[tuple[Path, Path]]) -> Sequence[tuple[Path, Path]]:
    if len(jobs) < 2:
        return jobs
    from tqdm import tqdm

    return tqdm(jobs, desc="generate", unit="file")
