"""`bandmate tokenize`: pairs -> clips -> tokens for a whole dataset, resumable.

Steps, each safe to interrupt:
1. the resolved config is saved as DIR/config.yaml (a rerun must use the same one);
2. the semantic tokenizer is fitted on the train split's input clips (and target clips,
   with `semantic.fit_on: input+target`), or copied from `semantic.reuse`, and saved as
   DIR/semantic.json + DIR/centroids.safetensors (a rerun loads it);
3. every song is tokenized into DIR/.work/<split>/<song>.npz (a rerun skips songs whose
   chunk exists), in `workers` processes;
4. chunks are assembled, in song order, into the split arrays and manifest.json
   (shards.py); the result does not depend on where a run was interrupted, nor on the
   number of workers (each process tokenizes with one thread, so float sums agree).
   DIR/.work/ is removed once the manifest is written; a rerun then does nothing.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm import tqdm

from bandmate.checkpoint_files import TOKENIZER_DIR, resolve_checkpoint
from bandmate.config import save_config, to_dict
from bandmate.data.clips import SkipCounter, iter_clips
from bandmate.data.datasets import scan_dataset
from bandmate.data.pairs import Pair, build_pair, resolve_spec
from bandmate.data.reserved import dataset_soundfonts, refuse_reserved
from bandmate.errors import BandmateError, ConfigError, DataError
from bandmate.io import atomic_path
from bandmate.tokens.chunks import (
    WORK_DIR,
    FrameCounts,
    SongTokens,
    chunk_path,
    exact_length,
    read_chunk,
    tokenize_pair,
    write_chunk,
)
from bandmate.tokens.codecs import codec_from_spec
from bandmate.tokens.config import TokenizeConfig
from bandmate.tokens.event_clips import tokenize_event_pair
from bandmate.tokens.events import MAX_BEATS, EventVocab
from bandmate.tokens.events import to_dict as events_to_dict
from bandmate.tokens.features import build_features
from bandmate.tokens.ids import NUM_SPECIALS
from bandmate.tokens.interfaces import AcousticCodec
from bandmate.tokens.semantic import (
    STATE_JSON,
    STATE_TENSORS,
    KMeansTokenizer,
    features_spec,
    fit_semantic,
    load_semantic,
    read_semantic_meta,
)
from bandmate.tokens.shards import (
    SplitTokens,
    file_sha256,
    read_manifest,
    write_manifest,
    write_split,
)

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
MAX_WORKERS = 2  # the build machines have 2 cores


@dataclass(frozen=True)
class Plan:
    """What a run covers: the pairs (sorted by song) and the songs without one."""

    pairs: list[Pair]
    skipped_songs: dict[str, str]  # song id -> reason
    # the SoundFonts a `bandmate synth` dataset was rendered with ({file, sha256}); [] for
    # other data. The token manifest keeps them as `timbres`, which `train` checks.
    soundfonts: list[dict[str, str]] = field(default_factory=list)


def tokenize_dataset(
    config: TokenizeConfig, out: str | Path, progress: bool = False
) -> dict[str, Any]:
    """Tokenize a dataset into a token directory (see the module docstring).

    Returns:
        the manifest written to `out/manifest.json`.
    """
    out = Path(out)
    if not config.clips.mono:
        raise ConfigError("clips.mono: tokenize needs mono clips")
    plan = plan_pairs(config)  # user errors first, before anything is written
    if config.target_format == "events":
        check_midi(plan.pairs)
    # The test-only timbres must never reach training (bandmate.data.reserved).
    refuse_reserved(plan.soundfonts, config.root, "tokenize")
    if config.semantic.reuse:
        reused_state(config)
    codec = codec_from_spec(config.codec)
    check_output(out, config)
    remove_stale_temporaries(out)
    if (out / "manifest.json").exists():
        log.info("%s: already complete", out)
        return read_manifest(out)
    semantic = prepare_semantic(config, out, plan.pairs, progress)
    frames = frame_counts(config, codec)
    todo = [p for p in plan.pairs if not chunk_path(out, p.split, p.song.song_id).exists()]
    log.info("%d songs to tokenize, %d done before", len(todo), len(plan.pairs) - len(todo))
    songs = tqdm(total=len(todo), desc="tokenize", unit="song", disable=not progress)
    for _ in run_songs(config, out, todo, codec, semantic, frames):
        songs.update()
    songs.close()
    manifest = assemble(config, out, plan, codec, semantic, frames)
    shutil.rmtree(out / WORK_DIR, ignore_errors=True)  # the shards now hold every chunk
    return manifest


def check_midi(pairs: list[Pair]) -> None:
    """The events target needs MIDI beside the target stems: a `DataError` when no pair
    has it (songs that lack it alone are skipped and counted)."""
    if all(any(s.midi_path is None for s in p.target_stems) for p in pairs):
        stem = pairs[0].target_stems[0]
        raise DataError(
            stem.path,
            "no MIDI beside the target stems; target_format=events needs a dataset that "
            "ships MIDI (`bandmate synth` output, Slakh2100)",
        )


def remove_stale_temporaries(out: Path) -> None:
    """Temporary files a killed run left (atomic writes that never got renamed)."""
    for pattern in (".*.tmp*", "*/.*.tmp*", f"{WORK_DIR}/*/.*.tmp*"):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)


def check_output(out: Path, config: TokenizeConfig) -> None:
    """Save the config, or check that a resumed run uses the same one (workers aside)."""
    path = out / CONFIG_FILE
    current = to_dict(replace(config, workers=1))
    if path.exists():
        saved = yaml.safe_load(path.read_text()) or {}
        saved["workers"] = 1
        if saved != current:
            changed = sorted(k for k in current if saved.get(k) != current[k])
            raise BandmateError(
                f"{out}: holds tokens made with another config (differs in "
                f"{', '.join(changed) or 'its keys'}); use a new --out or delete it"
            )
        return
    if out.is_dir() and any(out.iterdir()):
        raise BandmateError(f"{out}: not empty and not a token directory; choose a new --out")
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, path)


def plan_pairs(config: TokenizeConfig) -> Plan:
    """The dataset's pairs under the config's preset (or input/target), sorted by song."""
    if not config.root:
        raise ConfigError("root: give the dataset root (--set root=DIR)")
    spec = resolve_spec(config.preset, config.input, config.target)
    songs, skipped = scan_dataset(config.dataset, config.root)
    reasons = {item.song_id: item.reason for item in skipped}
    pairs = []
    for song in songs:
        pair = build_pair(song, spec)
        if isinstance(pair, Pair):
            if pair.split in config.splits:
                pairs.append(pair)
        else:
            reasons[song.song_id] = pair
    if not pairs:
        raise BandmateError(f"{config.root}: no song has a usable input/target pair")
    soundfonts = dataset_soundfonts(config.root)
    return Plan(sorted(pairs, key=lambda p: p.song.song_id), reasons, soundfonts)


def frame_counts(config: TokenizeConfig, codec: AcousticCodec) -> FrameCounts:
    seconds = config.clips.clip_seconds
    return FrameCounts(
        semantic=round(seconds * 16_000) // 320, acoustic=round(seconds * codec.frame_rate_hz)
    )


def fit_clips(
    pairs: list[Pair], config: TokenizeConfig, sample_rate_hz: int
) -> Iterator[torch.Tensor]:
    """Clips [S] for fitting k-means: the train split's (else every split's) inputs, each
    followed by its target with `semantic.fit_on: input+target`."""
    train = [p for p in pairs if p.split == "train"] or pairs
    num_samples = round(config.clips.clip_seconds * sample_rate_hz)
    sides = 2 if config.semantic.fit_on == "input+target" else 1
    given = 0
    for pair in train:
        try:
            for clip in iter_clips(pair, config.clips, SkipCounter()):
                for wav in clip.at_rate(sample_rate_hz)[:sides]:
                    yield torch.from_numpy(exact_length(wav, num_samples))
                    given += 1
                    if given >= config.semantic.fit_max_clips:
                        return
        except DataError as error:
            log.warning("not fitting on %s: %s", pair.song.song_id, error)


def prepare_semantic(
    config: TokenizeConfig, out: Path, pairs: list[Pair], progress: bool
) -> KMeansTokenizer:
    """Load the state files in DIR when a previous run fitted it; else fit and save it."""
    folder = out  # state files at the top, where checkpoints copy them from
    features = build_features(feature_settings(config))
    if (folder / STATE_JSON).exists():
        return load_semantic(folder, features)
    if config.semantic.reuse:
        for name in (STATE_JSON, STATE_TENSORS):
            with atomic_path(folder / name) as tmp:
                shutil.copyfile(reused_state(config) / name, tmp)
        log.info("semantic tokenizer from %s", config.semantic.reuse)
        return load_semantic(folder, features)
    # No total: how many clips pass the silence check is only known after reading them.
    bar = tqdm(desc="fit k-means", unit="clip", disable=not progress)
    seen = Counter[str]()

    def on_clip() -> None:
        seen["clips"] += 1
        bar.update()

    tokenizer = fit_semantic(
        features,
        fit_clips(pairs, config, KMeansTokenizer.sample_rate_hz),
        config.semantic.num_clusters,
        seed=config.seed,
        batch_clips=config.batch_clips,
        on_clip=on_clip,
    )
    bar.close()
    tokenizer.save(folder, {"fitted_on_clips": seen["clips"], "fitted_on": config.semantic.fit_on})
    return tokenizer


def feature_settings(config: TokenizeConfig) -> dict[str, Any]:
    """The semantic config's frame-feature settings, as `build_features` takes them."""
    semantic = config.semantic
    return {
        "kind": semantic.kind,
        "model": semantic.model,
        "layer": semantic.layer,
        "n_mfcc": semantic.n_mfcc,
        "chroma_fft": semantic.chroma_fft,
        "chroma": semantic.chroma,
    }


def reused_state(config: TokenizeConfig) -> Path:
    """The state folder of the tokenizer `semantic.reuse` names (a token directory, or a
    checkpoint, run directory or `bandmate:PRESET` and its tokenizer/). Raises a one-line
    error, before anything is written, when it was fitted with other feature settings or
    another cluster count than the config's: its ids would mean other frames."""
    spec = config.semantic.reuse
    source = Path(spec) if (Path(spec) / STATE_JSON).exists() else None
    source = source or resolve_checkpoint(spec) / TOKENIZER_DIR
    theirs = read_semantic_meta(source).get("spec")
    ours = f"{features_spec(feature_settings(config))}/kmeans{config.semantic.num_clusters}"
    if theirs != ours:
        raise ConfigError(
            f"semantic.reuse: {source} holds a {theirs} tokenizer, the config asks for "
            f"{ours}; set semantic.* to match it"
        )
    return source


# Worker processes each hold their own codec and tokenizer (set by `_init_worker`).
_WORKER: dict[str, Any] = {}


def _init_worker(config: TokenizeConfig, out: Path) -> None:
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(1)  # one core per worker; workers <= cores
    hf_logging.disable_progress_bar()  # in this worker only: bars would garble the main one
    codec = codec_from_spec(config.codec)
    _WORKER.update(
        config=config,
        out=out,
        codec=codec,
        semantic=load_semantic(out),
        frames=frame_counts(config, codec),
    )


def _work(pair: Pair) -> str:
    w = _WORKER
    tokens = song_tokens(pair, w["config"], w["codec"], w["semantic"], w["frames"])
    write_chunk(chunk_path(w["out"], pair.split, pair.song.song_id), tokens)
    return pair.song.song_id


def song_tokens(
    pair: Pair,
    config: TokenizeConfig,
    codec: AcousticCodec,
    semantic: KMeansTokenizer,
    frames: FrameCounts,
) -> SongTokens:
    """One pair's clips as tokens, with the target the config asks for."""
    if config.target_format == "events":
        vocab = EventVocab(NUM_SPECIALS + semantic.vocab_size)
        return tokenize_event_pair(pair, config.clips, semantic, frames, vocab, config.max_events)
    return tokenize_pair(pair, config.clips, codec, semantic, frames, config.batch_clips)


def run_songs(
    config: TokenizeConfig,
    out: Path,
    todo: list[Pair],
    codec: AcousticCodec,
    semantic: KMeansTokenizer,
    frames: FrameCounts,
) -> Iterator[str]:
    """Tokenize each pair into its chunk; yields song ids as they finish."""
    if config.workers > MAX_WORKERS:
        log.warning("workers=%d capped at %d", config.workers, MAX_WORKERS)
    workers = min(config.workers, MAX_WORKERS, len(todo))
    if workers <= 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a worker: float sums, hence codes, do not depend
        try:  # on how many processes a run (or its resumption) used
            for pair in todo:
                tokens = song_tokens(pair, config, codec, semantic, frames)
                write_chunk(chunk_path(out, pair.split, pair.song.song_id), tokens)
                yield pair.song.song_id
        finally:
            torch.set_num_threads(threads)
        return
    # spawn, not fork: a forked torch thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, _init_worker, (config, out)) as pool:
        yield from pool.map(_work, todo)


def assemble(
    config: TokenizeConfig,
    out: Path,
    plan: Plan,
    codec: AcousticCodec,
    semantic: KMeansTokenizer,
    frames: FrameCounts,
) -> dict[str, Any]:
    """Concatenate the chunks into split arrays (song order) and write the manifest."""
    checksums: dict[str, str] = {}
    splits: dict[str, dict[str, Any]] = {}
    clip_skips: Counter[str] = Counter()
    for split in config.splits:
        pairs = [p for p in plan.pairs if p.split == split]
        chunks = [(p, read_chunk(chunk_path(out, split, p.song.song_id))) for p in pairs]
        for _, chunk in chunks:
            clip_skips.update(chunk.skips)
        tokens = join_chunks(chunks, codec.num_codebooks, frames, config)
        checksums.update(write_split(out, split, tokens))
        hours = len(tokens) * config.clips.clip_seconds / 3600
        splits[split] = {"songs": len(pairs), "clips": len(tokens), "hours": round(hours, 4)}
    for name in (STATE_JSON, STATE_TENSORS):
        checksums[name] = file_sha256(out / name)
    manifest = build_manifest(config, plan, codec, semantic, frames)
    manifest.update(splits=splits, checksums=checksums, timbres=plan.soundfonts)
    manifest["skipped"] = {
        "songs": dict(sorted(plan.skipped_songs.items())),
        "clips": dict(sorted(clip_skips.items())),
    }
    write_manifest(out, manifest)
    return {"format": "bandmate-tokens/1", **manifest}


def join_chunks(
    chunks: list[tuple[Pair, SongTokens]],
    num_codebooks: int,
    frames: FrameCounts,
    config: TokenizeConfig,
) -> SplitTokens:
    """The split's arrays: chunks concatenated in the given (song) order."""
    import numpy as np

    def cat(name: str, shape: tuple[int, ...]) -> np.ndarray:
        parts = [getattr(chunk, name) for _, chunk in chunks]
        return np.concatenate(parts) if parts else np.zeros((0, *shape), np.int16)

    clips = [
        {"song": pair.song.song_id, "start_s": float(start)}
        for pair, chunk in chunks
        for start in chunk.start_s
    ]
    if config.target_format == "events":
        return SplitTokens(
            input_semantic=cat("input_semantic", (frames.semantic,)),
            target_semantic=cat("target_semantic", (0,)),
            target_acoustic=cat("target_acoustic", (0, 0)),
            clips=clips,
            target_events=cat("target_events", (config.max_events,)),
            beats_s=cat("beats_s", (MAX_BEATS,)),
        )
    return SplitTokens(
        input_semantic=cat("input_semantic", (frames.semantic,)),
        target_semantic=cat("target_semantic", (frames.semantic,)),
        target_acoustic=cat("target_acoustic", (num_codebooks, frames.acoustic)),
        clips=clips,
    )


def build_manifest(
    config: TokenizeConfig,
    plan: Plan,
    codec: AcousticCodec,
    semantic: KMeansTokenizer,
    frames: FrameCounts,
) -> dict[str, Any]:
    """What a reader needs to know about the token set besides the arrays."""
    spec = resolve_spec(config.preset, config.input, config.target)
    return {
        "dataset": config.dataset,
        "root": config.root,
        "preset": config.preset,
        "pair": {"input": spec.input, "target": spec.target},
        "clip_seconds": config.clips.clip_seconds,
        "config": CONFIG_FILE,
        "codec": {
            "spec": codec.spec,
            "sample_rate_hz": codec.sample_rate_hz,
            "frame_rate_hz": codec.frame_rate_hz,
            "num_codebooks": codec.num_codebooks,
            "codebook_size": codec.codebook_size,
        },
        "semantic": {
            "spec": semantic.spec,
            "state": STATE_JSON,  # files in DIR that rebuild the tokenizer (load_semantic)
            "centroids": STATE_TENSORS,
            "vocab_size": semantic.vocab_size,
            "sample_rate_hz": semantic.sample_rate_hz,
            "frame_rate_hz": semantic.frame_rate_hz,
        },
        "frames": {"semantic": frames.semantic, "acoustic": frames.acoustic},
        "target_format": config.target_format,
        **(
            {"events": event_settings(config, semantic)} if config.target_format == "events" else {}
        ),
    }


def event_settings(config: TokenizeConfig, semantic: KMeansTokenizer) -> dict[str, Any]:
    """The events target's vocabulary (its ids follow the semantic range) and length."""
    vocab = EventVocab(NUM_SPECIALS + semantic.vocab_size)
    return {**events_to_dict(vocab), "max_events": config.max_events}
