"""Weight mapping to transformers' T5ForConditionalGeneration (T5 1.1, one stream).

Used by the parity test and by anyone who wants to carry weights across; transformers
is imported lazily and only here.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from bandmate.model.config import T5Config
from bandmate.model.t5 import T5


def hf_config(config: T5Config) -> Any:
    """The transformers T5Config of the same shape (T5 1.1: gated-GELU, untied output)."""
    from transformers import T5Config as HFConfig

    kwargs: dict[str, Any] = dict(
        vocab_size=config.vocab_size,
        d_model=config.d_model,
        d_kv=config.d_kv,
        d_ff=config.d_ff,
        num_layers=config.num_encoder_layers,
        num_decoder_layers=config.num_decoder_layers,
        num_heads=config.num_heads,
        relative_attention_num_buckets=config.num_buckets,
        relative_attention_max_distance=config.max_distance,
        dropout_rate=config.dropout,
        layer_norm_epsilon=config.norm_eps,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return HFConfig(**kwargs)


def _attention(prefix: str, qkv: tuple[Tensor, ...], o: Tensor) -> dict[str, Tensor]:
    q, k, v = qkv
    return {f"{prefix}.q.weight": q, f"{prefix}.k.weight": k, f"{prefix}.v.weight": v,
            f"{prefix}.o.weight": o}  # fmt: skip


def _ff(prefix: str, wi: Tensor, wo: Tensor) -> dict[str, Tensor]:
    wi_0, wi_1 = wi.chunk(2)
    return {f"{prefix}.wi_0.weight": wi_0, f"{prefix}.wi_1.weight": wi_1,
            f"{prefix}.wo.weight": wo}  # fmt: skip


def to_hf_state_dict(model: T5) -> dict[str, Tensor]:
    """Our weights under transformers' T5ForConditionalGeneration names."""
    if model.config.num_streams != 1:
        raise ValueError("only one-stream (flatten) models map onto transformers' T5")
    if model.config.aligned_input or model.config.aligned_semantic:
        raise ValueError("transformers' T5 has no time-aligned input projection")
    out: dict[str, Tensor] = {
        "shared.weight": model.embed.weight,
        "encoder.embed_tokens.weight": model.embed.weight,
        "decoder.embed_tokens.weight": model.embed.weight,
        "lm_head.weight": model.lm_head.weight,
        "encoder.final_layer_norm.weight": model.encoder_norm.weight,
        "decoder.final_layer_norm.weight": model.decoder_norm.weight,
        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": (
            model.encoder_bias.embedding.weight
        ),
        "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": (
            model.decoder_bias.embedding.weight
        ),
    }
    for i, enc in enumerate(model.encoder_blocks):
        block = f"encoder.block.{i}.layer"
        out.update(
            _attention(f"{block}.0.SelfAttention", enc.attn.qkv.weight.chunk(3), enc.attn.o.weight)
        )
        out[f"{block}.0.layer_norm.weight"] = enc.attn_norm.weight
        out.update(_ff(f"{block}.1.DenseReluDense", enc.ff.wi.weight, enc.ff.wo.weight))
        out[f"{block}.1.layer_norm.weight"] = enc.ff_norm.weight
    for i, dec in enumerate(model.decoder_blocks):
        block = f"decoder.block.{i}.layer"
        out.update(
            _attention(f"{block}.0.SelfAttention", dec.attn.qkv.weight.chunk(3), dec.attn.o.weight)
        )
        out[f"{block}.0.layer_norm.weight"] = dec.attn_norm.weight
        k, v = dec.cross.kv.weight.chunk(2)
        out.update(
            _attention(f"{block}.1.EncDecAttention", (dec.cross.q.weight, k, v), dec.cross.o.weight)
        )
        out[f"{block}.1.layer_norm.weight"] = dec.cross_norm.weight
        out.update(_ff(f"{block}.2.DenseReluDense", dec.ff.wi.weight, dec.ff.wo.weight))
        out[f"{block}.2.layer_norm.weight"] = dec.ff_norm.weight
    return {name: tensor.detach().clone() for name, tensor in out.items()}


def to_hf_model(model: T5) -> Any:
    """A transformers T5ForConditionalGeneration holding a copy of our weights."""
    from transformers import T5ForConditionalGeneration

    hf = T5ForConditionalGeneration(hf_config(model.config))
    state = to_hf_state_dict(model)
    # transformers 5 ties lm_head to the input embedding even for T5 1.1: load the
    # embedding through both names, then untie the output layer.
    lm_head = state.pop("lm_head.weight")
    hf.load_state_dict({**state, "lm_head.weight": state["shared.weight"]}, strict=True)
    hf.lm_head.weight = torch.nn.Parameter(lm_head)
    return hf
