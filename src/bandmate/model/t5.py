"""The T5 1.1 encoder-decoder, read top to bottom in build order.

T5 1.1: RMSNorm pre-norm, gated-GELU feed-forward, relative position buckets shared by
all layers of a stack (bidirectional in the encoder, causal in the decoder), no biases,
no 1/sqrt(d) attention scaling (folded into the initialisation), one input embedding
shared by encoder and decoder, an untied output layer. Weights map one to one onto
transformers' T5ForConditionalGeneration (see `hf.py`); a test checks equal logits.

Speed: attention runs through `scaled_dot_product_attention` with the position bias as
an additive mask (computed once per stack, not per layer); query/key/value are one
matmul; `decode_step` reuses a `DecodeCache` allocated once (self-attention keys and
values written in place and read up to the written length, rounded up to CACHE_BLOCK;
cross-attention keys and values of all layers computed once).

Beyond T5 (off in the thesis's configs): with `T5Config.aligned_input` the decoder's
input embedding of each step also gets a projection of the encoder's output at the input
frame that sounds with it, and with `T5Config.aligned_semantic` each acoustic step gets
the embedding of the target's own semantic token at its time (`semantic_sources`).
Callers then pass `query_frames`, the input frame of each decoder step
(`TokenLayout.input_frames`).

Letters: B batch, L_s encoder length, L decoder length, S decoder streams, H heads,
D d_model, V vocabulary, M cache length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bandmate.model.config import T5Config

# Cached decoding attends the cache's written positions, rounded up to this many.
CACHE_BLOCK = 64


class RMSNorm(nn.Module):
    """T5's layer norm: scale only, no mean subtraction, statistics in float32."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        normed = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps)
        return self.weight * normed.to(x.dtype)


def relative_position_bucket(
    relative: Tensor, bidirectional: bool, num_buckets: int, max_distance: int
) -> Tensor:
    """T5's bucket of each relative position (key minus query): exact near, log-spaced far."""
    buckets = torch.zeros_like(relative)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative > 0).long() * num_buckets
        distance = relative.abs()
    else:
        distance = (-relative).clamp(min=0)
    max_exact = num_buckets // 2
    far = (
        max_exact
        + (
            torch.log(distance.float().clamp(min=1) / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)
        ).long()
    )
    far = far.clamp(max=num_buckets - 1)
    return buckets + torch.where(distance < max_exact, distance, far)


class RelativeBias(nn.Module):
    """Learned per-head bias of each relative position bucket."""

    def __init__(self, config: T5Config, bidirectional: bool) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.num_buckets, config.num_heads)
        self.bidirectional = bidirectional
        self.num_buckets = config.num_buckets
        self.max_distance = config.max_distance

    def forward(self, query_pos: Tensor, key_pos: Tensor) -> Tensor:
        """Positions [Lq], [Lk] -> bias [1, H, Lq, Lk]; causal stacks mask future keys."""
        relative = key_pos[None, :] - query_pos[:, None]
        bucket = relative_position_bucket(
            relative, self.bidirectional, self.num_buckets, self.max_distance
        )
        bias = self.embedding(bucket).permute(2, 0, 1).unsqueeze(0)
        if not self.bidirectional:
            bias = bias.masked_fill(relative > 0, float("-inf"))
        return bias

    def square(self, length: int, device: torch.device) -> Tensor:
        """Bias [1, H, L, L] of positions 0..L-1 attending to 0..L-1, as `forward` gives.

        The bias is a Toeplitz matrix, so it is built from the 2L - 1 distinct distances
        (a strided view, then one copy): the embedding lookup and its backward touch
        2L - 1 entries instead of L * L, which dominated training steps at L = 3512.
        """
        relative = torch.arange(-(length - 1), length, device=device)  # key - query
        bucket = relative_position_bucket(
            relative, self.bidirectional, self.num_buckets, self.max_distance
        )
        values = self.embedding(bucket).t()  # [H, 2L - 1]
        # windows[h, i, k] = values[h, i + k]; row i = L - 1 - q holds distances k - q
        bias = values.unfold(1, length, 1).flip(1)  # [H, L, L]
        if not self.bidirectional:
            future = torch.ones(length, length, dtype=torch.bool, device=device).triu(1)
            bias = bias.masked_fill(future, float("-inf"))
        return bias.unsqueeze(0)


def attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout: float) -> Tensor:
    """[B, H, Lq, d] x [B, H, Lk, d] -> [B, Lq, H * d]; T5 uses no 1/sqrt(d) scaling."""
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, scale=1.0)
    return out.transpose(1, 2).flatten(2)


class SelfAttention(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.heads, self.d_kv = config.num_heads, config.d_kv
        self.qkv = nn.Linear(config.d_model, 3 * config.inner_dim, bias=False)
        self.o = nn.Linear(config.inner_dim, config.d_model, bias=False)
        self.dropout = config.dropout

    def project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x [B, L, D] -> q, k, v each [B, H, L, d_kv]."""
        b, length, _ = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, self.d_kv).permute(2, 0, 3, 1, 4)
        return q, k, v

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        q, k, v = self.project(x)
        return self.o(attend(q, k, v, bias, self.dropout if self.training else 0.0))

    def step(
        self, x: Tensor, bias: Tensor, cache_k: Tensor, cache_v: Tensor, positions: Tensor
    ) -> Tensor:
        """Attend new positions [B, n, D] to the cache [B, H, M, d_kv], writing theirs in;
        only the first `bias.shape[-1]` cache positions are read.

        `positions` [n] is a device tensor (not Python ints): writing at it needs no copy
        from the host at every step.
        """
        q, k, v = self.project(x)
        cache_k.index_copy_(2, positions, k.to(cache_k.dtype))
        cache_v.index_copy_(2, positions, v.to(cache_v.dtype))
        filled = bias.shape[-1]  # keys beyond the bias's width are unwritten: not read
        return self.o(attend(q, cache_k[:, :, :filled], cache_v[:, :, :filled], bias, 0.0))


class CrossAttention(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.heads, self.d_kv = config.num_heads, config.d_kv
        self.q = nn.Linear(config.d_model, config.inner_dim, bias=False)
        self.kv = nn.Linear(config.d_model, 2 * config.inner_dim, bias=False)
        self.o = nn.Linear(config.inner_dim, config.d_model, bias=False)
        self.dropout = config.dropout

    def query(self, x: Tensor) -> Tensor:
        b, length, _ = x.shape
        return self.q(x).view(b, length, self.heads, self.d_kv).transpose(1, 2)

    def forward(self, x: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
        """x [B, L, D] attends to memory keys/values [B, H, L_s, d_kv]."""
        dropout = self.dropout if self.training else 0.0
        return self.o(attend(self.query(x), k, v, mask, dropout))

    def keys_values(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        """memory [B, L_s, D] -> k, v each [B, H, L_s, d_kv]."""
        b, length, _ = memory.shape
        kv = self.kv(memory).view(b, length, 2, self.heads, self.d_kv).permute(2, 0, 3, 1, 4)
        return kv[0], kv[1]


class GatedGelu(nn.Module):
    """T5 1.1 feed-forward: wo(dropout(gelu(wi_0 x) * wi_1 x)), wi_0 and wi_1 fused."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi = nn.Linear(config.d_model, 2 * config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        gate, linear = self.wi(x).chunk(2, dim=-1)
        return self.wo(self.dropout(F.gelu(gate, approximate="tanh") * linear))


class EncoderLayer(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(config.d_model, config.norm_eps)
        self.attn = SelfAttention(config)
        self.ff_norm = RMSNorm(config.d_model, config.norm_eps)
        self.ff = GatedGelu(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        x = x + self.dropout(self.attn(self.attn_norm(x), bias))
        return x + self.dropout(self.ff(self.ff_norm(x)))


class DecoderLayer(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(config.d_model, config.norm_eps)
        self.attn = SelfAttention(config)
        self.cross_norm = RMSNorm(config.d_model, config.norm_eps)
        self.cross = CrossAttention(config)
        self.ff_norm = RMSNorm(config.d_model, config.norm_eps)
        self.ff = GatedGelu(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, bias: Tensor, memory: Tensor, cross_mask: Tensor | None) -> Tensor:
        x = x + self.dropout(self.attn(self.attn_norm(x), bias))
        k, v = self.cross.keys_values(memory)
        x = x + self.dropout(self.cross(self.cross_norm(x), k, v, cross_mask))
        return x + self.dropout(self.ff(self.ff_norm(x)))

    def step(
        self,
        x: Tensor,
        bias: Tensor,
        cross_mask: Tensor | None,
        cache: DecodeCache,
        index: int,
        positions: Tensor,
    ) -> Tensor:
        """One cached decoding step of this layer (no dropout: inference only)."""
        x = x + self.attn.step(
            self.attn_norm(x), bias, cache.self_k[index], cache.self_v[index], positions
        )
        k, v = cache.cross_k[index], cache.cross_v[index]
        x = x + self.cross(self.cross_norm(x), k, v, cross_mask)
        return x + self.ff(self.ff_norm(x))


@dataclass
class EncoderMemory:
    """The encoder's output and the mask of its valid positions."""

    hidden: Tensor  # [B, L_s, D]
    mask: Tensor | None  # additive [B, 1, 1, L_s] in the hidden's dtype, None if no padding


@dataclass
class DecodeCache:
    """Static-shape state of incremental decoding; `length` positions are filled."""

    self_k: Tensor  # [layers, B, H, M, d_kv]
    self_v: Tensor  # [layers, B, H, M, d_kv]
    cross_k: Tensor  # [layers, B, H, L_s, d_kv]
    cross_v: Tensor  # [layers, B, H, L_s, d_kv]
    cross_mask: Tensor | None  # additive padding mask of the memory, [B, 1, 1, L_s]
    inputs: Tensor | None  # with `aligned_input`: [B, M, D] added to each step's embedding
    # with `aligned_semantic`: the first stream's tokens fed so far [B, M], and the position
    # whose token each step adds (`semantic_sources`, [M])
    fed: Tensor | None
    sources: Tensor | None
    position: Tensor  # int64 [1] on the device: the next position (graph-safe twin of length)
    length: int = 0  # the same on the host, for bounds checks

    @property
    def max_length(self) -> int:
        return int(self.self_k.shape[3])


def semantic_sources(frames: Tensor) -> Tensor:
    """The decoder input position that holds the target's semantic token sounding with
    each step, or -1 (semantic and EOS steps): int64 [L] from `frames` [L].

    `frames` is `TokenLayout.input_frames`: semantic step i is frame i, so the semantic
    steps are the leading ones whose frame is their own index, and an acoustic step of
    frame f reads the semantic target of step f, which teacher forcing (and decoding)
    feeds at position f + 1 of the first stream.
    """
    steps = torch.arange(frames.shape[0], device=frames.device)
    num_semantic = (frames == steps).long().cumprod(0).sum()  # a tensor: no host sync
    later = (steps >= num_semantic) & (frames < num_semantic)
    return torch.where(later, frames + 1, torch.full_like(frames, -1))


def first_stream(tokens: Tensor) -> Tensor:
    """Decoder tokens [B, L] or [B, S, L] -> the first stream's [B, L] (which holds the
    semantic part in both layouts)."""
    return tokens[:, 0] if tokens.dim() == 3 else tokens


def compute_dtype(x: Tensor) -> torch.dtype:
    """The dtype matmuls run in (the autocast dtype when autocast is on)."""
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


def aligned(mask: Tensor, multiple: int = 16) -> Tensor:
    """The same mask stored with a last-dimension stride that is a multiple of 16.

    SDPA's memory-efficient CUDA kernel wants aligned mask rows and otherwise pads a
    copy of the mask itself, in every layer; padding once per stack avoids that.
    """
    pad = -mask.shape[-1] % multiple
    return F.pad(mask, (0, pad))[..., : mask.shape[-1]] if pad else mask


def padding_mask(attention_mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """Bool/int [B, L_s] (1 = token) -> additive [B, 1, 1, L_s] (-inf at padding)."""
    if attention_mask is None:
        return None
    mask = torch.zeros(attention_mask.shape, dtype=dtype, device=attention_mask.device)
    return aligned(mask.masked_fill(attention_mask == 0, float("-inf"))[:, None, None, :])


@dataclass(frozen=True)
class HeadGroup:
    """Decoder positions of one stream whose valid ids are one range [lo, hi): training
    can score them over that range only (see `T5.forward`)."""

    stream: int
    lo: int
    hi: int
    positions: Tensor  # [n] int64 decoder steps


class T5(nn.Module):
    """T5 1.1 encoder-decoder over the token layout's ids.

    Decoder tokens are [B, L] when `num_streams` is 1, else [B, S, L] (the S streams'
    embeddings are summed; S output heads), and logits follow: [B, L, V] or [B, S, L, V].
    """

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder_bias = RelativeBias(config, bidirectional=True)
        self.encoder_layers = nn.ModuleList(
            EncoderLayer(config) for _ in range(config.num_encoder_layers)
        )
        self.encoder_norm = RMSNorm(config.d_model, config.norm_eps)
        self.decoder_bias = RelativeBias(config, bidirectional=False)
        self.decoder_layers = nn.ModuleList(
            DecoderLayer(config) for _ in range(config.num_decoder_layers)
        )
        self.decoder_norm = RMSNorm(config.d_model, config.norm_eps)
        self.input_proj = (
            nn.Linear(config.d_model, config.d_model, bias=False) if config.aligned_input else None
        )
        self.semantic_proj = (
            nn.Linear(config.d_model, config.d_model, bias=False)
            if config.aligned_semantic
            else None
        )
        self.lm_head = nn.Linear(config.d_model, config.num_streams * config.vocab_size, bias=False)
        self.dropout = nn.Dropout(config.dropout)
        self.reset_parameters()

    @property
    def encoder_blocks(self) -> list[EncoderLayer]:
        return cast(list[EncoderLayer], list(self.encoder_layers))

    @property
    def decoder_blocks(self) -> list[DecoderLayer]:
        return cast(list[DecoderLayer], list(self.decoder_layers))

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """T5/T5X initialisation: variance scaling by fan-in; attention scaling folded into q."""
        c = self.config
        nn.init.normal_(self.embed.weight, std=1.0)
        nn.init.normal_(self.lm_head.weight, std=c.d_model**-0.5)
        for bias in (self.encoder_bias, self.decoder_bias):
            nn.init.normal_(bias.embedding.weight, std=c.d_model**-0.5)
        q_std, kv_std = (c.d_model * c.d_kv) ** -0.5, c.d_model**-0.5
        for proj in (self.input_proj, self.semantic_proj):
            if proj is not None:  # starts small: the model is T5 until it learns
                nn.init.normal_(proj.weight, std=0.1 * c.d_model**-0.5)
        for module in self.modules():
            if isinstance(module, SelfAttention):
                nn.init.normal_(module.qkv.weight, std=kv_std)
                nn.init.normal_(module.qkv.weight[: c.inner_dim], std=q_std)
                nn.init.normal_(module.o.weight, std=c.inner_dim**-0.5)
            elif isinstance(module, CrossAttention):
                nn.init.normal_(module.q.weight, std=q_std)
                nn.init.normal_(module.kv.weight, std=kv_std)
                nn.init.normal_(module.o.weight, std=c.inner_dim**-0.5)
            elif isinstance(module, GatedGelu):
                nn.init.normal_(module.wi.weight, std=c.d_model**-0.5)
                nn.init.normal_(module.wo.weight, std=c.d_ff**-0.5)

    # ----- encoder ---------------------------------------------------------------------
    def encode(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> EncoderMemory:
        """Encoder ids [B, L_s] (+ mask [B, L_s], 1 = token) -> memory [B, L_s, D]."""
        x = self.dropout(self.embed(input_ids))
        dtype = compute_dtype(x)
        bias = self.encoder_bias.square(input_ids.shape[1], x.device).to(dtype)  # [1, H, L_s, L_s]
        mask = padding_mask(attention_mask, dtype)
        if mask is not None:
            bias = bias + mask
        bias = aligned(bias)
        for layer in self.encoder_blocks:
            x = layer(x, bias)
        return EncoderMemory(self.dropout(self.encoder_norm(x)), mask)

    # ----- decoder ---------------------------------------------------------------------
    def embed_decoder(self, tokens: Tensor) -> Tensor:
        """[B, L] or [B, S, L] -> [B, L, D] (streams summed)."""
        x = self.embed(tokens)
        return x.sum(1) if tokens.dim() == 3 else x

    def head(self, x: Tensor) -> Tensor:
        """Hidden [B, L, D] -> logits [B, L, V] (one stream) or [B, S, L, V]."""
        logits = self.lm_head(x)
        if self.config.num_streams == 1:
            return logits
        b, length, _ = logits.shape
        return logits.view(b, length, self.config.num_streams, -1).transpose(1, 2)

    def aligned_input(
        self, memory: EncoderMemory, query_frames: Tensor | None, length: int
    ) -> Tensor | None:
        """With `aligned_input`: the projected encoder output at each of `length` decoder
        steps' input frames, [B, L, D] (added to the decoder's input embeddings); else None."""
        if self.input_proj is None:
            return None
        frames = self.step_frames(memory, query_frames, length)
        if frames.dim() == 2:  # one row of frames per sequence (an events target)
            index = frames[..., None].expand(-1, -1, memory.hidden.shape[-1])
            return self.input_proj(memory.hidden.gather(1, index))
        return self.input_proj(memory.hidden[:, frames])

    def aligned_semantic(self, first: Tensor, sources: Tensor) -> Tensor:
        """The projected embeddings of the first stream's tokens `first` [B, M] at
        `sources` [n] (-1: none, adds zero): [B, n, D]."""
        assert self.semantic_proj is not None
        tokens = first[:, sources.clamp(min=0)]
        keep = (sources >= 0).to(self.embed.weight.dtype)[None, :, None]
        return self.semantic_proj(self.embed(tokens) * keep)

    def step_frames(
        self, memory: EncoderMemory, query_frames: Tensor | None, length: int
    ) -> Tensor:
        """`query_frames` [>= length] (or [B, >= length], a row per sequence) cut or
        extended (by its last frame, which covers padded targets) to `length`."""
        if query_frames is None:
            raise ValueError("this model is time-aligned with its input: pass query_frames")
        frames = query_frames.to(memory.hidden.device)[..., :length]
        if frames.shape[-1] < length:
            last = frames[..., -1:]
            frames = torch.cat(
                [frames, last.expand(*last.shape[:-1], length - frames.shape[-1])], -1
            )
        return frames

    def decode(
        self, tokens: Tensor, memory: EncoderMemory, query_frames: Tensor | None = None
    ) -> Tensor:
        """Teacher-forced decoder: tokens [B, L] / [B, S, L] -> logits [B, L, V] / [B, S, L, V]."""
        return self.head(self.decode_hidden(tokens, memory, query_frames))

    def decode_hidden(
        self, tokens: Tensor, memory: EncoderMemory, query_frames: Tensor | None = None
    ) -> Tensor:
        """Teacher-forced decoder up to the output layer: tokens -> hidden [B, L, D]."""
        x = self.embed_decoder(tokens)
        aligned_input = self.aligned_input(memory, query_frames, x.shape[1])
        if aligned_input is not None:
            x = x + aligned_input
        if self.semantic_proj is not None:
            sources = semantic_sources(self.step_frames(memory, query_frames, x.shape[1]))
            x = x + self.aligned_semantic(first_stream(tokens), sources)
        x = self.dropout(x)
        dtype = compute_dtype(x)
        bias = aligned(self.decoder_bias.square(x.shape[1], x.device).to(dtype))  # causal
        for layer in self.decoder_blocks:
            x = layer(x, bias, memory.hidden, memory.mask)
        return self.dropout(self.decoder_norm(x))

    def group_logits(self, hidden: Tensor, group: HeadGroup) -> Tensor:
        """Hidden [B, L, D] -> logits [B, n, hi - lo] of the group's positions over its
        own id range: the output layer's rows of the other ids are never multiplied."""
        row = group.stream * self.config.vocab_size
        weight = self.lm_head.weight[row + group.lo : row + group.hi]
        return F.linear(hidden[:, group.positions], weight)

    def forward(
        self,
        encoder_input_tokens: Tensor,
        decoder_input_tokens: Tensor,
        encoder_mask: Tensor | None = None,
        groups: list[HeadGroup] | None = None,
        query_frames: Tensor | None = None,
    ) -> Tensor | list[Tensor]:
        """Teacher-forced logits (see `decode`) for encoder ids [B, L_s]; with `groups`,
        one logits tensor per group instead (see `group_logits`). Both happen inside
        forward so that DDP and FSDP see every use of the weights. `query_frames`: the
        input frame of each decoder step (needed with `aligned_input` or
        `aligned_semantic`)."""
        memory = self.encode(encoder_input_tokens, encoder_mask)
        if groups is None:
            return self.decode(decoder_input_tokens, memory, query_frames)
        hidden = self.decode_hidden(decoder_input_tokens, memory, query_frames)
        return [self.group_logits(hidden, group) for group in groups]

    # ----- cached decoding -------------------------------------------------------------
    @torch.no_grad()
    def init_cache(
        self,
        memory: EncoderMemory,
        max_length: int,
        query_frames: Tensor | None = None,
        per_step_inputs: bool = False,
    ) -> DecodeCache:
        """Allocate the self-attention cache for `max_length` steps and compute the
        cross-attention keys/values of every decoder layer in one matmul (and, with
        `config.aligned_input`, every step's share of the input from `query_frames`,
        unless `per_step_inputs`: an events target learns each step's frame only as it is
        decoded, and the caller passes that step's share to `decode_step`)."""
        c = self.config
        hidden = memory.hidden
        b, length, _ = hidden.shape
        layers = len(self.decoder_layers)
        weight = torch.cat([layer.cross.kv.weight for layer in self.decoder_blocks])
        kv = F.linear(hidden, weight.to(compute_dtype(hidden)))  # [B, L_s, layers*2*H*d_kv]
        kv = kv.view(b, length, layers, 2, c.num_heads, c.d_kv).permute(2, 3, 0, 4, 1, 5)
        shape = (layers, b, c.num_heads, max_length, c.d_kv)
        self_k = hidden.new_zeros(shape, dtype=kv.dtype)
        cross_k, cross_v = kv[:, 0].contiguous(), kv[:, 1].contiguous()
        position = torch.zeros(1, dtype=torch.long, device=hidden.device)
        inputs = None if per_step_inputs else self.aligned_input(memory, query_frames, max_length)
        fed = sources = None
        if self.semantic_proj is not None:
            sources = semantic_sources(self.step_frames(memory, query_frames, max_length))
            fed = torch.zeros(b, max_length, dtype=torch.long, device=hidden.device)
        return DecodeCache(
            self_k, torch.zeros_like(self_k), cross_k, cross_v, memory.mask, inputs, fed,
            sources, position,
        )  # fmt: skip

    @torch.no_grad()
    def decode_step(
        self, tokens: Tensor, cache: DecodeCache, inputs: Tensor | None = None
    ) -> Tensor:
        """Feed the next n positions, return their logits, advance the cache.

        Args:
            tokens: [B, n] (one stream) or [B, S, n] decoder inputs at positions
                cache.length .. cache.length + n - 1 (n = 1 when generating).
            cache: from `init_cache`; updated in place.
            inputs: [B, n, D] added to those positions' embeddings (with
                `init_cache(per_step_inputs=True)`: `input_proj` of their input frames).
        Returns:
            logits [B, n, V] or [B, S, n, V] for those positions.
        """
        return self.head(self.decode_step_hidden(tokens, cache, inputs))

    @torch.no_grad()
    def decode_step_hidden(
        self, tokens: Tensor, cache: DecodeCache, inputs: Tensor | None = None
    ) -> Tensor:
        """`decode_step` without the output layer: the final hidden states [B, n, D], for
        a caller that needs the logits of a few ids only (generate/decode.py)."""
        x = self.embed_decoder(tokens)
        n, device = x.shape[1], x.device
        if cache.length + n > cache.max_length:
            raise ValueError(
                f"cache holds {cache.max_length} positions; asked for {cache.length + n}"
            )
        query_pos = cache.position + torch.arange(n, device=device)  # [n]
        if cache.inputs is not None:
            x = x + cache.inputs.index_select(1, query_pos)
        if inputs is not None:
            x = x + inputs
        if cache.fed is not None and cache.sources is not None:
            # written first: a prefill's later steps may read its earlier tokens
            cache.fed.index_copy_(1, query_pos, first_stream(tokens))
            x = x + self.aligned_semantic(cache.fed, cache.sources.index_select(0, query_pos))
        # Attend the written positions only, rounded up to a block so that shapes change
        # rarely: reading the whole cache every step made self-attention half of a
        # window's decoding on the CPU (benchmarks/decode_speed.py).
        filled = min(cache.max_length, -(-(cache.length + n) // CACHE_BLOCK) * CACHE_BLOCK)
        bias = self.decoder_bias(query_pos, torch.arange(filled, device=device))
        bias = bias.to(cache.self_k.dtype)  # [1, H, n, filled]; masks unwritten positions
        for index, layer in enumerate(self.decoder_blocks):
            x = layer.step(x, bias, cache.cross_mask, cache, index, query_pos)
        cache.position.add_(n)
        cache.length += n
        return self.decoder_norm(x)
