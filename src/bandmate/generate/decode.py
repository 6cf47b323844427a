"""Autoregressive decoding of a target token sequence with the KV cache.

Every sampled id is valid for its position (the layout's mask). Positions can be
forced to given ids (-1 = free): long inputs use this to continue the previous window,
whose last seconds of semantic and acoustic tokens are forced at the start of the next.

Letters: B batch, S streams (1 for flatten, K for delay), T decoder steps, V vocabulary.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from bandmate.generate.sampling import SamplingConfig, sample
from bandmate.model.t5 import T5, DecodeCache
from bandmate.tokens.layout import PAD_ID, TokenLayout

FREE = -1  # marks a position that is sampled, not forced


def valid_masks(layout: TokenLayout, device: torch.device) -> Tensor:
    """Bool [T, V] (flatten) or [T, S, V] (delay): valid ids per decoder step."""
    mask = torch.from_numpy(layout.valid_mask()).to(device)
    return mask if layout.num_streams == 1 else mask.transpose(0, 1).contiguous()


class ValidHead:
    """The output layer cut down to the ids each decoder step may emit.

    At every step each stream emits one contiguous id range (`TokenLayout.position_ranges`:
    the semantic ids, one codebook, PAD or EOS), at most a quarter of the vocabulary in the
    delay layout. Multiplying only those rows of the output layer, and sampling among
    them, gives the same distribution as masking full logits, at a fraction of the cost
    (benchmarks/decode_speed.py). Steps share few distinct sets of ranges, so each set's
    weight rows are gathered once, up front.
    """

    def __init__(self, model: T5, layout: TokenLayout) -> None:
        ranges = torch.from_numpy(layout.position_ranges()).long()  # [(S,) T, 2]
        ranges = ranges if layout.num_streams > 1 else ranges[None]  # [S, T, 2]
        self.lo = ranges[..., 0].t().contiguous()  # [T, S]
        widths = (ranges[..., 1] - ranges[..., 0]).t()  # [T, S]
        distinct, self.block_of = torch.unique(
            torch.cat([self.lo, widths], 1), dim=0, return_inverse=True
        )  # [N, 2S] sets of ranges, and the set of each step [T]
        streams, width = self.lo.shape[1], int(widths.max())
        columns = torch.arange(width)
        weight = model.lm_head.weight  # [S * V, D]
        self.blocks: list[tuple[Tensor, Tensor]] = []
        for lo, count in zip(distinct[:, :streams], distinct[:, streams:], strict=True):
            valid = columns[None] < count[:, None]  # [S, W]
            ids = lo[:, None] + torch.where(valid, columns[None], 0)  # padding repeats lo
            rows = torch.arange(streams)[:, None] * model.config.vocab_size + ids
            self.blocks.append((weight[rows.to(weight.device)], valid.to(weight.device)))

    def logits(self, hidden: Tensor, step: int) -> tuple[Tensor, Tensor]:
        """Final hidden states [B, D] -> logits [B, S, W] over the step's ranges (padded to
        the widest) and their valid mask [S, W]; id = column + `self.lo[step]`."""
        weight, valid = self.blocks[int(self.block_of[step])]
        return torch.einsum("bd,swd->bsw", hidden, weight.to(hidden.dtype)), valid


@torch.no_grad()
def generate_targets(
    model: T5,
    layout: TokenLayout,
    encoder_ids: Tensor,
    sampling: SamplingConfig,
    generator: torch.Generator | None = None,
    forced: Tensor | None = None,
) -> Tensor:
    """Sample targets for a batch of inputs.

    Args:
        model: the T5 (eval mode).
        layout: its token layout.
        encoder_ids: [B, L_in] encoder ids (`layout.encoder_tokens`).
        sampling: temperature / top-k / top-p / guidance (None counts as 0 here: the
            checkpoint's own weight is the Accompanist's to fill in).
        generator: random stream on the model's device.
        forced: optional [B, *target_shape] ids, FREE where the model samples.
    Returns:
        targets [B, *target_shape] int64 ([B, L] flatten, [B, K, T] delay).
    """
    batch, device = encoder_ids.shape[0], encoder_ids.device
    steps = layout.target_steps
    frames = torch.from_numpy(layout.input_frames())
    guidance = sampling.guidance or 0.0
    if guidance > 0:  # one cache for the batch and its null-input twin
        null = torch.from_numpy(layout.null_input()).to(device).expand_as(encoder_ids)
        encoder_ids = torch.cat([encoder_ids, null])
    cache = model.init_cache(model.encode(encoder_ids), steps, frames)
    head = ValidHead(model, layout)
    lo = head.lo.to(device)
    out = torch.full((batch, *layout.target_shape), PAD_ID, dtype=torch.long, device=device)
    token = torch.full(
        (batch, *layout.target_shape[:-1], 1), PAD_ID, dtype=torch.long, device=device
    )  # decoder start
    if forced is not None:
        forced = with_fixed_ids(layout, forced)
    runs = forced_runs(forced, steps)
    t = 0
    while t < steps:
        if forced is not None and runs[t]:
            # Steps whose every id is forced need no logits: feed their inputs (the last
            # id, then the forced ones) in one pass that only fills the cache.
            n = runs[t]
            feed(model, torch.cat([token, forced[..., t : t + n - 1]], -1), cache, guidance)
            out[..., t : t + n] = forced[..., t : t + n]
            token, t = forced[..., t + n - 1 : t + n], t + n
            continue
        logits, valid = head.logits(next_hidden(model, token, cache, guidance), t)
        ids = sample(logits, valid, sampling, generator) + lo[t]  # [B, S]
        ids = ids if layout.num_streams > 1 else ids[:, 0]
        if forced is not None:
            ids = torch.where(forced[..., t] != FREE, forced[..., t], ids)
        out[..., t] = ids
        token = ids[..., None]
        t += 1
    return out


def with_fixed_ids(layout: TokenLayout, forced: Tensor) -> Tensor:
    """`forced` [B, *target_shape] with the free positions that the layout allows one id
    filled in (the delay layout's PAD streams beside a semantic step, EOS): sampling there
    can only draw that id, so a step whose other ids are forced is forced whole."""
    ranges = torch.from_numpy(layout.position_ranges()).long().to(forced.device)
    lo, fixed = ranges[..., 0], ranges[..., 1] - ranges[..., 0] == 1  # [*target_shape]
    return torch.where((forced == FREE) & fixed, lo, forced)


def forced_runs(forced: Tensor | None, steps: int) -> list[int]:
    """For each step, how many steps from it on have every id forced (0: not forced).

    Args:
        forced: [B, *target_shape] ids, FREE where the model samples; None: nothing forced.
    """
    if forced is None:
        return [0] * steps
    whole = (forced != FREE).reshape(forced.shape[0], -1, steps).all(1).all(0).tolist()
    runs = [0] * (steps + 1)
    for t in reversed(range(steps)):
        runs[t] = runs[t + 1] + 1 if whole[t] else 0
    return runs[:steps]


def feed(model: T5, tokens: Tensor, cache: DecodeCache, guidance: float) -> None:
    """Advance the cache over tokens [B, (S,) n] (for the null-input rows too, with
    guidance), discarding the outputs."""
    model.decode_step_hidden(torch.cat([tokens, tokens]) if guidance else tokens, cache)


def next_hidden(model: T5, token: Tensor, cache: DecodeCache, guidance: float) -> Tensor:
    """Final hidden states [B, D] of the next step for tokens [B, (S,) 1]; with guidance
    the cache holds 2B rows (inputs, then null inputs) and the two are contrasted. The
    output layer is linear, so contrasting hidden states contrasts the logits."""
    if not guidance:
        return model.decode_step_hidden(token, cache)[:, 0]
    given, null = model.decode_step_hidden(torch.cat([token, token]), cache)[:, 0].chunk(2)
    return given + guidance * (given - null)


def next_logits(model: T5, token: Tensor, cache: DecodeCache, guidance: float) -> Tensor:
    """Logits [B, V] or [B, S, V] over the whole vocabulary of the next step (`next_hidden`
    through the full output layer)."""
    return model.head(next_hidden(model, token, cache, guidance)[:, None])[..., 0, :]


def forced_prefix(layout: TokenLayout, semantic: np.ndarray, acoustic: np.ndarray) -> np.ndarray:
    """Targets that force the first frames of a window and leave the rest FREE.

    Args:
        semantic: raw semantic ids [B, n_sem] for the first n_sem semantic frames.
        acoustic: raw codes [B, K, n_ac] for the first n_ac acoustic frames.
    Returns:
        int64 [B, *target_shape]: ids at forced positions, FREE elsewhere.
    """
    batch, n_sem, n_ac = semantic.shape[0], semantic.shape[1], acoustic.shape[2]
    sem = np.zeros((batch, layout.semantic_frames), dtype=np.int64)
    ac = np.zeros((batch, layout.num_codebooks, layout.acoustic_frames), dtype=np.int64)
    sem[:, :n_sem], ac[:, :, :n_ac] = semantic, acoustic
    ids = layout.target_tokens(sem, ac)
    # The layout is positional: pushing ones through it marks where each raw token lands.
    sem_on, ac_on = np.zeros_like(sem), np.zeros_like(ac)
    sem_on[:, :n_sem], ac_on[:, :, :n_ac] = 1, 1
    landed = layout.target_tokens(sem_on, ac_on) - layout.target_tokens(0 * sem, 0 * ac)
    return np.where(landed == 1, ids, FREE)
