"""`bandmate synth` as a library: render N songs into a MedleyDB-layout dataset.

Every random choice of song i comes from `numpy.random.default_rng([seed, i, attempt])`,
so songs do not depend on each other, on the number of worker processes or on their
order: the same settings give byte-identical files. Nothing time-dependent is written.
The dataset is built in a hidden folder beside `out` and renamed into place at the end,
so an interrupted run leaves no half-written dataset behind.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bandmate import __version__
from bandmate.data.audio import write_wav
from bandmate.data.roles import role_of
from bandmate.errors import BandmateError
from bandmate.io import atomic_write_text
from bandmate.synth.band import band_song
from bandmate.synth.layout import SongPaths, metadata, metadata_yaml
from bandmate.synth.midi import write_part_midi, write_score_midi
from bandmate.synth.mixing import active_rms, integer_mix, level_stems, quantize
from bandmate.synth.render import check_soundfont, default_soundfont, render_part, soundfont_sha256
from bandmate.synth.score import Part, Score

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
GENERATOR = "bandmate synth"
DEFAULT_SOURCES = (("band", 0.7), ("chorale", 0.15), ("folk", 0.15))
MAX_ATTEMPTS = 4
SILENT_DB = -70.0


def _source_fn(name: str) -> Callable[[np.random.Generator, float, str], Score]:
    if name == "band":
        return band_song
    if name == "hymn":
        from bandmate.synth.hymn import hymn_song

        return hymn_song
    from bandmate.synth import corpus  # imports music21 (~1 s): only when needed

    return {
        "chorale": corpus.chorale_song,
        "chorale-heldout": corpus.held_out_chorale_song,
        "folk": corpus.folk_song,
    }[name]


@dataclass(frozen=True)
class SynthSettings:
    """Everything that decides the rendered files (and nothing that does not)."""

    songs: int
    seed: int = 0
    sources: tuple[tuple[str, float], ...] = DEFAULT_SOURCES  # (source, weight)
    clip_seconds: float = 30.0
    sample_rate_hz: int = 24_000
    channels: int = 1
    soundfont: str | None = None  # None: TimGM6mb.sf2 from pretty_midi

    def validate(self) -> None:
        """Raise `BandmateError` (one line, naming the option) for unusable settings."""
        known = ("band", "chorale", "chorale-heldout", "folk", "hymn")
        if self.songs < 1:
            raise BandmateError(f"--songs must be at least 1, got {self.songs}")
        for name, weight in self.sources:
            if name not in known:
                raise BandmateError(f"unknown source {name!r}; known: {', '.join(known)}")
            if weight < 0:
                raise BandmateError(f"source {name!r} has a negative weight")
        if sum(w for _, w in self.sources) <= 0:
            raise BandmateError("--sources needs at least one source with a positive weight")
        if not 1.0 <= self.clip_seconds <= 3600.0:
            raise BandmateError(f"--clip-seconds must be in [1, 3600], got {self.clip_seconds}")
        if not 8000 <= self.sample_rate_hz <= 96000:
            raise BandmateError(
                f"--sample-rate must be in [8000, 96000], got {self.sample_rate_hz}"
            )
        if self.channels not in (1, 2):
            raise BandmateError(f"channels must be 1 or 2, got {self.channels}")
        if self.soundfont is not None and not Path(self.soundfont).is_file():
            raise BandmateError(f"{self.soundfont}: SoundFont file not found")


@dataclass
class SynthReport:
    """What a run made and how fast (speed = seconds of audio per second of wall time)."""

    out: Path
    songs: int
    audio_seconds: float
    wall_seconds: float
    sources: dict[str, int] = field(default_factory=dict)

    @property
    def speed(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")


def song_id(seed: int, index: int, source: str) -> str:
    """`Synth<seed>_<Source><index>`: MedleyDB's `Artist_Title` shape, unique per seed."""
    name = "".join(word.capitalize() for word in source.split("-"))
    return f"Synth{seed}_{name}{index:05d}"


def _choose_source(settings: SynthSettings, rng: np.random.Generator) -> str:
    names = [name for name, _ in settings.sources]
    weights = np.array([w for _, w in settings.sources], dtype=np.float64)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _render_stems(
    score: Score, settings: SynthSettings, soundfont: str
) -> list[tuple[Part, np.ndarray]]:
    """Render every part; parts that came out silent (no notes, no preset) are dropped."""
    num_samples = round(score.duration_s * settings.sample_rate_hz)
    rendered = []
    for part in score.parts:
        if not part.notes:
            continue
        wav = render_part(part, num_samples, settings.sample_rate_hz, settings.channels, soundfont)
        rms = active_rms(wav, settings.sample_rate_hz)
        if rms <= 0 or 20 * np.log10(rms) < SILENT_DB:
            logger.warning("%s: part %s rendered silent; dropped", score.title, part.name)
            continue
        rendered.append((part, wav))
    return rendered


def compose(settings: SynthSettings, index: int) -> Iterator[tuple[str, Score]]:
    """Candidate songs for slot `index`: (source, score), one per attempt."""
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([settings.seed, index, attempt])
        source = _choose_source(settings, rng)
        title = f"{source.capitalize()} {index:05d}"
        yield source, _source_fn(source)(rng, settings.clip_seconds, title)


def _audible_song(
    settings: SynthSettings, index: int, soundfont: str
) -> tuple[str, Score, list[tuple[Part, np.ndarray]]]:
    """The first candidate song of slot `index` with at least two audible stems."""
    for source, score in compose(settings, index):
        stems = _render_stems(score, settings, soundfont)
        if len(stems) >= 2:
            return source, score, stems
        logger.warning("song %d: fewer than 2 audible stems; composing another", index)
    raise RuntimeError(f"song {index}: no audible song in {MAX_ATTEMPTS} attempts")


def render_song(settings: SynthSettings, index: int, root: Path) -> dict[str, Any]:
    """Compose, render and write song `index` under `root`; returns its manifest entry."""
    soundfont = settings.soundfont or str(default_soundfont())
    source, score, stems = _audible_song(settings, index, soundfont)
    paths = SongPaths(root, song_id(settings.seed, index, source))
    parts = [part for part, _ in stems]
    levelled = level_stems(
        [w for _, w in stems], [p.gain_db for p in parts], settings.sample_rate_hz
    )
    ints = [quantize(wav) for wav in levelled]
    for number, (part, wav) in enumerate(zip(parts, ints, strict=True), start=1):
        write_wav(paths.stem(number), wav, settings.sample_rate_hz)
        write_part_midi(paths.stem_midi(number), score, part)
    write_wav(paths.mix, integer_mix(ints), settings.sample_rate_hz)
    write_score_midi(paths.mix_midi, score)
    atomic_write_text(paths.metadata, metadata_yaml(metadata(paths, score, parts)))
    return _manifest_entry(paths, source, score, parts)


def _manifest_entry(
    paths: SongPaths, source: str, score: Score, parts: list[Part]
) -> dict[str, Any]:
    def rel(path: Path) -> str:
        return path.relative_to(paths.root).as_posix()

    stems = [
        {
            "stem": f"S{n:02d}",
            "file": rel(paths.stem(n)),
            "midi": rel(paths.stem_midi(n)),
            "part": part.name,
            "instrument": part.label,
            "role": role_of(part.label).value,
            "program": part.program,
            "is_drum": part.is_drum,
            "notes": len(part.notes),
            "gain_db": part.gain_db,
        }
        for n, part in enumerate(parts, start=1)
    ]
    return {
        "song_id": paths.song_id,
        "source": source,
        "origin": score.origin,
        "style": score.style,
        "genre": score.genre,
        "tempo_bpm": score.tempo_bpm,
        "key": score.key,
        "meter": score.meter,
        "duration_s": score.duration_s,
        "sections": score.sections,
        "metadata": rel(paths.metadata),
        "mix": rel(paths.mix),
        "midi": rel(paths.mix_midi),
        "stems": stems,
    }


def _render_one(args: tuple[SynthSettings, int, Path]) -> dict[str, Any]:
    return render_song(*args)


def _prepare_out(out: Path, overwrite: bool) -> None:
    """Refuse to replace anything but an empty folder or, with `overwrite`, an earlier synth."""
    if not out.exists():
        return
    if not out.is_dir():
        raise BandmateError(f"{out}: exists and is not a folder")
    if not any(out.iterdir()):
        out.rmdir()
        return
    manifest = out / MANIFEST
    ours = manifest.is_file() and GENERATOR in manifest.read_text(errors="replace")[:400]
    if not ours:
        raise BandmateError(f"{out}: folder exists and is not a `bandmate synth` dataset")
    if not overwrite:
        raise BandmateError(f"{out}: a synth dataset is already there; pass --overwrite")
    shutil.rmtree(out)


def manifest_json(settings: SynthSettings, soundfont: str, songs: list[dict[str, Any]]) -> str:
    """The dataset manifest: generator, settings, SoundFont and one entry per song."""
    data = {
        "generator": GENERATOR,
        "bandmate_version": __version__,
        "settings": {**asdict(settings), "soundfont": Path(soundfont).name},
        "soundfont_sha256": soundfont_sha256(soundfont),
        "layout": "medleydb",
        "songs": songs,
    }
    return json.dumps(data, indent=1) + "\n"


def synthesize(
    out: str | Path,
    settings: SynthSettings,
    jobs: int = 1,
    overwrite: bool = False,
    on_song: Callable[[dict[str, Any]], None] | None = None,
) -> SynthReport:
    """Render `settings.songs` songs into a MedleyDB-layout dataset at `out`.

    Args:
        out: the dataset root to create.
        settings: what to render (decides every byte of the output).
        jobs: worker processes (1 renders in this process).
        overwrite: replace an earlier `bandmate synth` dataset at `out`.
        on_song: called with each song's manifest entry as it finishes (progress).
    Returns:
        a report with the audio rendered and the wall time it took.
    """
    settings.validate()
    out = Path(out)
    _prepare_out(out, overwrite)
    soundfont = settings.soundfont or str(default_soundfont())
    check_soundfont(soundfont)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    started = time.perf_counter()
    try:
        partial.mkdir(parents=True)
        work = [(settings, index, partial) for index in range(settings.songs)]
        songs = []
        for entry in _run(work, jobs):
            songs.append(entry)
            if on_song is not None:
                on_song(entry)
        atomic_write_text(partial / MANIFEST, manifest_json(settings, soundfont, songs))
        os.replace(partial, out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    counts: dict[str, int] = {}
    for entry in songs:
        counts[entry["source"]] = counts.get(entry["source"], 0) + 1
    audio = sum(float(entry["duration_s"]) for entry in songs)
    return SynthReport(out, len(songs), audio, time.perf_counter() - started, counts)


def _run(work: list[tuple[SynthSettings, int, Path]], jobs: int) -> Iterator[dict[str, Any]]:
    """Render songs in order, in this process or in a pool of `jobs` processes."""
    if jobs <= 1 or len(work) == 1:
        yield from map(_render_one, work)
        return
    # The platform's default start method: output does not depend on it (see module doc).
    with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
        yield from pool.map(_render_one, work, chunksize=1)
