"""`bandmate synth` as a library: render N songs into a MedleyDB-layout dataset.

Every random choice of song i comes from `numpy.random.default_rng([seed, i, attempt])`,
so songs do not depend on each other, on the number of worker processes or on their
order: the same settings give byte-identical files. Nothing time-dependent is written.
The dataset is built in a hidden folder beside `out` and renamed into place at the end,
so an interrupted run leaves no half-written dataset behind. Worker processes die with the
parent, even one killed with SIGKILL; SIGTERM stops them and removes the hidden folder, and
a later run into the same `out` removes those left by runs that no longer exist (issue #32).

With `timbres: varied` (the default) every part draws its sound from a pool of SoundFonts,
recorded kits and synthesizer patches, and every stem its own effect chain
(synth/production.py); `timbres: single` renders every part dry with one SoundFont (the
data the shipped models were trained on), `timbres: reserved` with the fonts kept for
testing (synth/timbres.py). The manifest names the sound source of every stem, and its
effect chain.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from bandmate import __version__
from bandmate.data.audio import write_wav
from bandmate.data.reserved import is_reserved
from bandmate.data.roles import role_of
from bandmate.errors import BandmateError
from bandmate.io import atomic_write_text
from bandmate.synth.band import band_song
from bandmate.synth.humanize import PERFORMANCE_STREAM, Variation, draw_variation
from bandmate.synth.layout import SongPaths, metadata, metadata_yaml
from bandmate.synth.midi import write_part_midi, write_score_midi
from bandmate.synth.mixing import active_rms, integer_mix, level_stems, quantize
from bandmate.synth.production import (
    PRODUCTION_STREAM,
    Effect,
    Placement,
    apply_chain,
    draw_chain,
    draw_placement,
)
from bandmate.synth.render import check_soundfont, default_soundfont, soundfont_sha256
from bandmate.synth.score import Part, Score
from bandmate.synth.timbres import (
    TIMBRES,
    Palette,
    Timbre,
    VariedPalette,
    Voice,
    choose_timbres,
    draw_voices,
    reserved_palette,
    role_of_part,
    single_timbres,
    varied_palette,
)

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
    soundfont: str | None = None  # None: TimGM6mb.sf2 from pretty_midi (`single` only)
    # varied: a pool of fonts, kits and patches, with effects; single: every part dry on
    # `soundfont`; reserved: the test-only fonts (synth/timbres.py)
    timbres: str = "varied"

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
        if self.timbres not in TIMBRES:
            raise BandmateError(f"--timbres: one of {', '.join(TIMBRES)}, not {self.timbres!r}")
        if self.timbres != "single" and self.soundfont is not None:
            raise BandmateError(
                f"--soundfont renders every part with one font: it goes with --timbres single, "
                f"not {self.timbres}"
            )


@dataclass
class SynthReport:
    """What a run made and how fast (speed = seconds of audio per second of wall time)."""

    out: Path
    songs: int
    audio_seconds: float
    wall_seconds: float
    sources: dict[str, int] = field(default_factory=dict)
    soundfonts: dict[str, int] = field(default_factory=dict)  # file name -> stems it rendered
    reserved: bool = False  # some font is reserved for testing (bandmate.data.reserved)

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


@dataclass
class Stem:
    """One rendered part: its sound source, its production (none for `single` and
    `reserved`: dry, at the composer's level and pan) and its audio."""

    part: Part
    voice: Timbre | Voice
    wav: np.ndarray  # [C, S] float32, effects applied, not levelled
    chain: list[Effect] = field(default_factory=list)
    placement: Placement | None = None
    variation: Variation | None = None  # how the part was replayed (`vary_parts`)

    @property
    def gain_db(self) -> float:
        """The stem's level relative to the others (`mixing.level_stems`)."""
        return self.part.gain_db + (self.placement.level_db if self.placement else 0.0)


def vary_parts(parts: list[Part], seed: int, index: int) -> list[Variation]:
    """Replay each part of song `index` with a drawn velocity curve (and a bass with a drawn
    register), in place, so that the MIDI written is what is heard; `varied` only.

    Returns:
        each part's variation, in order, drawn from [seed, index, PERFORMANCE_STREAM, position].
    """
    variations = []
    for position, part in enumerate(parts):
        rng = np.random.default_rng([seed, index, PERFORMANCE_STREAM, position])
        variation = draw_variation(rng, part.notes, role_of_part(part) == "bass")
        part.notes = variation.apply(part.notes)
        variations.append(variation)
    return variations


def _render_stems(
    score: Score,
    settings: SynthSettings,
    voices: list[Timbre | Voice],
    index: int,
    variations: list[Variation] | None = None,
) -> list[Stem]:
    """Render every part with its voice (then, for `varied`, through its effect chain);
    parts that came out silent (no notes, no preset, no kit piece) are dropped.

    Args:
        voices: the sound of each of `score.parts`, in order.
        index: the song's slot (seeds the effect chains).
        variations: how each part was replayed (`vary_parts`), for the manifest.
    """
    num_samples = round(score.duration_s * settings.sample_rate_hz)
    rate = settings.sample_rate_hz
    rendered = []
    for position, (part, voice) in enumerate(zip(score.parts, voices, strict=True)):
        if not part.notes:
            continue
        if settings.timbres != "varied":
            wav = voice.render(part, num_samples, rate, settings.channels)
            if _audible(wav, rate, score.title, part):
                rendered.append(Stem(part, voice, wav))
            continue
        rng = np.random.default_rng([settings.seed, index, PRODUCTION_STREAM, position])
        role = role_of_part(part)
        placement = draw_placement(rng, role)
        chain = draw_chain(rng, role)
        wav = voice.render(
            dataclasses.replace(part, pan=placement.pan), num_samples, rate, settings.channels
        )
        if _audible(wav, rate, score.title, part):
            wav = apply_chain(wav, chain, rate)
            variation = variations[position] if variations else None
            rendered.append(Stem(part, voice, wav, chain, placement, variation))
    return rendered


def _audible(wav: np.ndarray, sample_rate_hz: int, title: str, part: Part) -> bool:
    rms = active_rms(wav, sample_rate_hz)
    if rms <= 0 or 20 * np.log10(rms) < SILENT_DB:
        logger.warning("%s: part %s rendered silent; dropped", title, part.name)
        return False
    return True


def compose(settings: SynthSettings, index: int) -> Iterator[tuple[str, Score]]:
    """Candidate songs for slot `index`: (source, score), one per attempt."""
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([settings.seed, index, attempt])
        source = _choose_source(settings, rng)
        title = f"{source.capitalize()} {index:05d}"
        yield source, _source_fn(source)(rng, settings.clip_seconds, title)


def _audible_song(
    settings: SynthSettings, index: int, palette: Palette | VariedPalette | None
) -> tuple[str, Score, list[Stem]]:
    """The first candidate song of slot `index` with at least two audible stems."""
    for source, score in compose(settings, index):
        variations = None
        if settings.timbres == "varied":
            variations = vary_parts(score.parts, settings.seed, index)
        voices = song_voices(settings, index, score.parts, palette)
        stems = _render_stems(score, settings, voices, index, variations)
        if len(stems) >= 2:
            return source, score, stems
        logger.warning("song %d: fewer than 2 audible stems; composing another", index)
    raise RuntimeError(f"song {index}: no audible song in {MAX_ATTEMPTS} attempts")


def find_palette(settings: SynthSettings) -> Palette | VariedPalette | None:
    """The pool `settings.timbres` draws from (None for `single`); a one-line
    `BandmateError` when it cannot be had (no reserved font, a bad kit folder)."""
    if settings.timbres == "reserved":
        return reserved_palette()
    if settings.timbres == "varied":
        return varied_palette()
    return None


def song_voices(
    settings: SynthSettings,
    index: int,
    parts: list[Part],
    palette: Palette | VariedPalette | None,
) -> list[Timbre | Voice]:
    """The sound of each of song `index`'s parts: the one font, a draw from the reserved
    fonts, or a draw from the varied pool (`palette`; found here when None)."""
    if settings.timbres == "single":
        timbres = single_timbres(settings.soundfont or str(default_soundfont()))
        return [timbres.of(part) for part in parts]
    if settings.timbres == "reserved":
        reserved = palette if isinstance(palette, Palette) else reserved_palette()
        timbres = choose_timbres(reserved, settings.seed, index)
        return [timbres.of(part) for part in parts]
    varied = palette if isinstance(palette, VariedPalette) else varied_palette()
    return list(draw_voices(varied, settings.seed, index, parts))


def render_song(
    settings: SynthSettings,
    index: int,
    root: Path,
    palette: Palette | VariedPalette | None = None,
) -> dict[str, Any]:
    """Compose, render and write song `index` under `root`; returns its manifest entry.

    Args:
        palette: the pool `settings.timbres` draws from (None: look here).
    """
    source, score, stems = _audible_song(settings, index, palette)
    paths = SongPaths(root, song_id(settings.seed, index, source))
    parts = [stem.part for stem in stems]
    # Effects go on the stems before they are levelled: the mix stays their integer sum.
    levelled = level_stems(
        [stem.wav for stem in stems], [stem.gain_db for stem in stems], settings.sample_rate_hz
    )
    ints = [quantize(wav) for wav in levelled]
    for number, (part, wav) in enumerate(zip(parts, ints, strict=True), start=1):
        write_wav(paths.stem(number), wav, settings.sample_rate_hz)
        write_part_midi(paths.stem_midi(number), score, part)
    write_wav(paths.mix, integer_mix(ints), settings.sample_rate_hz)
    write_score_midi(paths.mix_midi, score)
    atomic_write_text(paths.metadata, metadata_yaml(metadata(paths, score, parts)))
    return _manifest_entry(paths, source, score, stems)


def _manifest_entry(
    paths: SongPaths, source: str, score: Score, rendered: list[Stem]
) -> dict[str, Any]:
    def rel(path: Path) -> str:
        return path.relative_to(paths.root).as_posix()

    stems = []
    for n, stem in enumerate(rendered, start=1):
        part = stem.part
        entry: dict[str, Any] = {
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
            # the sound source (named `soundfont` for the readers of bandmate.data.reserved):
            # file, sha256, preset; for `varied` also kind (soundfont | kit | patch), source
            "soundfont": stem.voice.record(part),
        }
        if stem.placement is not None:  # `varied`: production drawn per stem
            entry.update(level_db=stem.placement.level_db, pan=stem.placement.pan)
        if stem.variation is not None:
            entry["performance"] = dataclasses.asdict(stem.variation)
            entry["effects"] = [effect.record() for effect in stem.chain]
        stems.append(entry)
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


Work = tuple[SynthSettings, int, Path, Palette | VariedPalette | None]


def _render_one(args: Work) -> dict[str, Any]:
    settings, index, root, palette = args
    return render_song(settings, index, root, palette=palette)


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


def manifest_json(
    settings: SynthSettings, soundfont: str | None, songs: list[dict[str, Any]]
) -> str:
    """The dataset manifest: generator, settings, SoundFonts and one entry per song.

    Args:
        soundfont: the one font of a `single` render; None otherwise (each stem's
            `soundfont` names its source, `soundfonts` lists them all).
    """
    data: dict[str, Any] = {
        "generator": GENERATOR,
        "bandmate_version": __version__,
        "settings": {**asdict(settings), "soundfont": soundfont and Path(soundfont).name},
    }
    if soundfont is not None:
        data["soundfont_sha256"] = soundfont_sha256(soundfont)
    data["soundfonts"] = _soundfonts_used(songs)
    data.update(layout="medleydb", songs=songs)
    return json.dumps(data, indent=1) + "\n"


def _soundfonts_used(songs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each font the stems name, once: {file, sha256, stems: how many it rendered}."""
    counts: dict[tuple[str, str], int] = {}
    for song in songs:
        for stem in song["stems"]:
            key = (stem["soundfont"]["file"], stem["soundfont"]["sha256"])
            counts[key] = counts.get(key, 0) + 1
    return [{"file": f, "sha256": sha, "stems": n} for (f, sha), n in sorted(counts.items())]


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
    soundfont = None
    palette = find_palette(settings)  # before `out` is touched: a missing font writes nothing
    if settings.timbres == "single":
        soundfont = settings.soundfont or str(default_soundfont())
        check_soundfont(soundfont)
    _prepare_out(out, overwrite)
    remove_stale_partials(out)
    partial = _partial_folder(out, os.getpid())
    shutil.rmtree(partial, ignore_errors=True)
    started = time.perf_counter()
    try:
        with _sigterm_interrupts():
            partial.mkdir(parents=True)
            work = [(settings, index, partial, palette) for index in range(settings.songs)]
            songs = []
            # closing: an interruption stops the workers before their folder is removed
            with contextlib.closing(_run(work, jobs)) as rendered:
                for entry in rendered:
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
    used = _soundfonts_used(songs)
    fonts = {font["file"]: font["stems"] for font in used}
    reserved = any(is_reserved(font["file"], font["sha256"]) for font in used)
    wall_s = time.perf_counter() - started
    return SynthReport(out, len(songs), audio, wall_s, counts, fonts, reserved)


def _run(work: list[Work], jobs: int) -> Generator[dict[str, Any], None, None]:
    """Render songs in order, in this process or in a pool of `jobs` processes.

    If the caller stops early (an exception here, or `close()`), the workers are killed
    at once rather than left to finish the songs they have started.
    """
    if jobs <= 1 or len(work) == 1:
        yield from map(_render_one, work)
        return
    # The platform's default start method: output does not depend on it (see module doc).
    pool = concurrent.futures.ProcessPoolExecutor(
        jobs, initializer=_init_worker, initargs=(os.getpid(),)
    )
    try:
        yield from pool.map(_render_one, work, chunksize=1)
    except BaseException:  # interrupted, closed early, or a song failed
        # The executor cannot stop a running task (Python 3.14 adds terminate_workers()).
        for process in list((pool._processes or {}).values()):
            process.terminate()
        raise
    finally:
        # After a terminate the pool counts as broken: this returns once the workers are reaped
        pool.shutdown(wait=True, cancel_futures=True)


def _init_worker(parent_pid: int) -> None:
    """Runs first in every worker: its life ends with the parent's, however that ends."""
    # fork copied the parent's handlers: SIGTERM must end a worker, and Ctrl-C (sent to the
    # whole process group) is for the parent alone, which then stops the workers itself.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _set_parent_death_signal(signal.SIGTERM):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _set_parent_death_signal(signum: int) -> bool:
    """Ask Linux to send this process `signum` when its parent dies; False where it cannot.

    The kernel delivers it even after SIGKILL of the parent, and even while this process is
    busy in C code; a watchdog thread needs the GIL and polls. (Strictly it fires when the
    thread that forked this process ends: the workers are forked by the thread running
    `_run`, which outlives them.)
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, interval_s: float = 0.5) -> None:
    """Exit this process once its parent is gone (where `prctl` is missing: not Linux)."""
    while os.getppid() == parent_pid:  # an orphan is handed to another parent
        time.sleep(interval_s)
    os._exit(1)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while rendering, so `finally` blocks run: the
    workers are stopped and the partial folder removed, as for Ctrl-C.

    Only in the main thread (where Python runs signal handlers) and only when SIGTERM has
    its default action: a handler the caller installed is left alone.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _partial_folder(out: Path, pid: int) -> Path:
    """The hidden folder that process `pid` builds the dataset `out` in."""
    return out.parent / f".{out.name}.partial-{pid}"


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove the partial folders of `out` left by synth processes that no longer run.

    Only folders named `.NAME.partial-PID` for this `out` are considered, and only those
    whose PID is gone: another synth into the same `out` may still be running. (A PID
    reused since by an unrelated process keeps its folder: erring on the safe side.)

    Returns:
        the folders removed.
    """
    if not out.parent.is_dir():
        return []
    pattern = re.compile(re.escape(f".{out.name}.partial-") + r"([0-9]+)")
    removed = []
    for path in sorted(out.parent.iterdir()):
        match = pattern.fullmatch(path.name)
        if not match or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _process_exists(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        logger.info("removed %s, left by a synth run that no longer exists", path)
        removed.append(path)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # not a pid at all: no process can have made it
        return False
    return True
