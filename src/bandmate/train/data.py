"""Batches from memory-mapped token shards, in an order that is a pure function of the step.

The clip order is an endless concatenation of per-epoch permutations drawn from the
seed, so global batch `s` is always the same clips whatever happened before: resuming
needs nothing but the step, and N processes see exactly the clips one process would.

Batch fields follow T5X: `encoder_input_tokens` [B, L_s], `decoder_input_tokens`,
`decoder_target_tokens`, `decoder_loss_weights` ([B, L] flatten or [B, S, T] delay),
plus `decoder_parts` (layout part codes, for per-part accuracy).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bandmate.data.reserved import refuse_reserved
from bandmate.errors import ConfigError, DataError
from bandmate.tokens.events import query_frames
from bandmate.tokens.layout import PAD_ID, PART_ACOUSTIC, TokenLayout, layout_from_manifest
from bandmate.tokens.shards import SplitTokens, load_split, read_manifest
from bandmate.train.config import AugmentConfig, DataConfig

log = logging.getLogger(__name__)

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class TokenData:
    """The splits of a token directory with the layout and padded lengths to train on."""

    root: Path
    manifest: dict[str, Any]
    layout: TokenLayout
    train: SplitTokens
    valid: SplitTokens | None
    input_length: int
    target_length: int


def open_token_data(config: DataConfig) -> TokenData:
    """Memory-map the train (and, if present, valid) split and check the lengths fit."""
    if not config.tokens:
        raise ConfigError("data.tokens: set the token directory (e.g. --set data.tokens=DIR)")
    root = Path(config.tokens)
    manifest = read_manifest(root)
    # Tokens of the test-only timbres must never be trained on (bandmate.data.reserved);
    # directories made before `timbres` was recorded hold TimGM6mb renders only.
    source = f"{root} (tokens of {manifest.get('root') or 'a dataset'})"
    refuse_reserved(manifest.get("timbres") or [], source, "train")
    train = load_split(root, config.train_split)
    if len(train) == 0:
        raise DataError(root / config.train_split, "the train split holds no clips")
    valid_dir = root / config.valid_split
    valid = load_split(root, config.valid_split) if valid_dir.is_dir() else None
    if valid is not None and len(valid) == 0:
        log.warning("%s: the valid split holds no clips; no validation", valid_dir)
        valid = None
    layout = token_layout(config, manifest, train, root / "manifest.json")
    input_length = config.input_length or layout.input_length
    target_length = config.target_length or layout.target_steps
    if input_length < layout.input_length or target_length < layout.target_steps:
        raise ConfigError(
            f"data.input_length/target_length ({input_length}/{target_length}) are shorter "
            f"than the clips need ({layout.input_length}/{layout.target_steps})"
        )
    return TokenData(root, manifest, layout, train, valid, input_length, target_length)


def token_layout(
    config: DataConfig, manifest: dict[str, Any], train: SplitTokens, where: Path
) -> TokenLayout:
    """The layout of the tokens, which must be the one the config asks for."""
    events = manifest.get("target_format") == "events"
    if events != (config.layout == "events"):
        made = "events" if events else "codec tokens"
        raise ConfigError(
            f"data.layout {config.layout}: {where.parent} holds {made} targets "
            f"({'set data.layout=events' if events else 'choose flatten or delay'})"
        )
    if events:
        assert train.target_events is not None
        semantic = manifest["semantic"]["vocab_size"]
        steps = train.target_events.shape[1]
        return TokenLayout("events", semantic, 0, 0, train.input_semantic.shape[1], 0, steps)
    shape = train.target_acoustic.shape
    return layout_from_manifest(
        manifest, config.layout, train.target_semantic.shape[1], (shape[1], shape[2]),
        where=str(where),
    )  # fmt: skip


def clip_indices(seed: int, num_clips: int, start: int, count: int) -> np.ndarray:
    """Positions [start, start + count) of the endless seeded clip order -> clip indices."""
    positions = np.arange(start, start + count)
    epochs = positions // num_clips
    out = np.empty(count, dtype=np.int64)
    for epoch in np.unique(epochs):
        perm = np.random.default_rng([seed, int(epoch)]).permutation(num_clips)
        chosen = epochs == epoch
        out[chosen] = perm[positions[chosen] % num_clips]
    return out


def _pad(array: np.ndarray, length: int) -> np.ndarray:
    pad = [(0, 0)] * (array.ndim - 1) + [(0, length - array.shape[-1])]
    return np.pad(array, pad, constant_values=PAD_ID)


def _corrupt(
    layout: TokenLayout, targets: np.ndarray, share: float, rng: np.random.Generator
) -> np.ndarray:
    """A copy of targets [B, *target_shape] with about `share` of the positions that
    admit more than one id replaced by a random id valid there."""
    ranges = layout.position_ranges()  # [*target_shape, 2]
    lo, hi = ranges[..., 0], ranges[..., 1]
    noisy = (rng.random(targets.shape) < share) & (hi - lo > 1)
    width = np.broadcast_to(hi - lo, targets.shape)[noisy]
    out = targets.copy()
    out[noisy] = np.broadcast_to(lo, targets.shape)[noisy] + rng.integers(0, width)
    return out


def make_batch(
    data: TokenData,
    split: SplitTokens,
    indices: np.ndarray,
    augment: AugmentConfig | None = None,
    rng: np.random.Generator | None = None,
) -> Batch:
    """Build one batch of clips `indices` [B] of `split` (sorted reads from the memmap)."""
    layout = data.layout
    order = np.argsort(indices)
    rows = np.empty_like(order)
    rows[order] = np.arange(len(indices))
    sorted_idx = indices[order]
    inputs = np.asarray(split.input_semantic[sorted_idx])[rows].astype(np.int64)
    # augmentation needs both its settings and a generator (validation passes neither);
    # without them every share is 0 and the generator is never drawn from
    aug = augment if augment is not None and rng is not None else AugmentConfig()
    gen = rng if rng is not None else np.random.default_rng(0)
    if aug.input_token_noise > 0:
        noisy = gen.random(inputs.shape) < aug.input_token_noise
        inputs[noisy] = gen.integers(0, layout.semantic_vocab_size, int(noisy.sum()))
    encoder = layout.encoder_tokens(inputs)
    if aug.input_dropout > 0:
        dropped = gen.random(len(encoder)) < aug.input_dropout
        encoder[dropped] = layout.null_input()
    if layout.kind == "events":
        return event_batch(data, split, sorted_idx, rows, encoder)
    semantic = np.asarray(split.target_semantic[sorted_idx])[rows]
    acoustic = np.asarray(split.target_acoustic[sorted_idx])[rows]
    targets = layout.target_tokens(semantic, acoustic)
    weights = np.broadcast_to(layout.loss_weights(), targets.shape)
    parts = np.broadcast_to(layout.parts(), targets.shape)
    past = targets
    if aug.target_token_noise > 0:
        past = _corrupt(layout, targets, aug.target_token_noise, gen)
    length = data.target_length
    targets = _pad(targets, length)
    return {
        "encoder_input_tokens": torch.from_numpy(_pad(encoder, data.input_length)),
        "decoder_input_tokens": torch.from_numpy(layout.decoder_inputs(_pad(past, length))),
        "decoder_target_tokens": torch.from_numpy(targets),
        "decoder_loss_weights": torch.from_numpy(_pad(weights.astype(np.float32), length)),
        "decoder_parts": torch.from_numpy(_pad(parts.astype(np.int64), length)),
    }


def event_batch(
    data: TokenData, split: SplitTokens, sorted_idx: np.ndarray, rows: np.ndarray,
    encoder: np.ndarray,
) -> Batch:  # fmt: skip
    """The batch of an events target: ids up to EOS weigh 1, PAD after them 0, and
    `query_frames` [B, L] holds the input frame each step sounds with (per clip: the
    time its tokens so far reached on the clip's beats)."""
    assert split.target_events is not None and split.beats_s is not None
    layout, length = data.layout, data.target_length
    targets = np.asarray(split.target_events[sorted_idx])[rows].astype(np.int64)
    # Steps after every clip's EOS cost time and teach nothing: the batch ends at the
    # longest clip (rounded up to a multiple of 32, so that shapes repeat).
    used = int((targets != PAD_ID).sum(1).max())
    targets = _pad(targets, length)[:, : min(length, -(-used // 32) * 32)]
    beats = np.asarray(split.beats_s[sorted_idx])[rows]
    rate = layout.semantic_frames / float(data.manifest["clip_seconds"])
    frames = np.stack([
        query_frames(layout.events, ids, row[~np.isnan(row)], rate, layout.semantic_frames)
        for ids, row in zip(targets, beats, strict=True)
    ])  # fmt: skip
    return {
        "encoder_input_tokens": torch.from_numpy(_pad(encoder, data.input_length)),
        "decoder_input_tokens": torch.from_numpy(layout.decoder_inputs(targets)),
        "decoder_target_tokens": torch.from_numpy(targets),
        "decoder_loss_weights": torch.from_numpy((targets != PAD_ID).astype(np.float32)),
        "decoder_parts": torch.from_numpy(np.where(targets != PAD_ID, PART_ACOUSTIC, 0)),
        "query_frames": torch.from_numpy(frames),
    }


def train_batch(
    data: TokenData,
    augment: AugmentConfig,
    seed: int,
    step: int,
    batch_size: int,
    micro: int,
    micro_batches: int,
) -> Batch:
    """Micro-batch `micro` of `micro_batches` of global batch `step` (0-based).

    Micro-batches of a global batch are interleaved across processes by the caller:
    process r at accumulation round a takes micro index a * world + r.
    """
    size = batch_size // micro_batches
    indices = clip_indices(seed, len(data.train), step * batch_size + micro * size, size)
    rng = np.random.default_rng([seed, step, micro, 1])
    return make_batch(data, data.train, indices, augment, rng)


def attention_mask(batch: Batch) -> torch.Tensor:
    """Encoder mask [B, L_s]: 1 at tokens, 0 at padding (PAD never occurs inside inputs)."""
    return (batch["encoder_input_tokens"] != PAD_ID).long()
