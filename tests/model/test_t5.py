"""T5 1.1: parity with transformers, cached decoding, stream heads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bandmate.model.t5 as t5
from bandmate.model.config import preset_config
from bandmate.model.hf import to_hf_model
from bandmate.model.t5 import T5, EncoderMemory, relative_position_bucket, semantic_sources
from bandmate.tokens.layout import TokenLayout


def _model(num_streams: int = 1, seed: int = 0, **extras: bool) -> T5:
    """A tiny model; `extras`: aligned_input, aligned_semantic."""
    torch.manual_seed(seed)
    config = preset_config("tiny", vocab_size=40, num_streams=num_streams, dropout=0.0, **extras)
    model = T5(config).eval()
    for proj in (model.input_proj, model.semantic_proj):
        if proj is not None:  # full-size weights, so a wrong step would show
            torch.nn.init.normal_(proj.weight, std=config.d_model**-0.5)
    return model


# Input frame of each of the 13 decoder steps of `_batch` (two passes over 11 frames).
FRAMES = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0, 2, 4, 6, 8, 10])


def _batch(b: int = 2, ls: int = 11, ld: int = 13) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(1)
    enc = torch.randint(2, 40, (b, ls), generator=gen)
    dec = torch.randint(2, 40, (b, ld), generator=gen)
    dec[:, 0] = 0
    mask = torch.ones(b, ls, dtype=torch.long)
    mask[1, -3:] = 0  # a padded second example exercises the encoder mask
    return enc, dec, mask


def test_same_logits_as_transformers_t5() -> None:
    model = _model()
    # perturb the norms so a mix-up of norm weights would show
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
    enc, dec, mask = _batch()
    hf = to_hf_model(model).eval()
    ours = model(enc, dec, mask)
    theirs = hf(input_ids=enc, attention_mask=mask, decoder_input_ids=dec).logits
    assert ours.shape == theirs.shape == (2, 13, 40)
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)
    # the comparison can fail: a different decoder input changes the logits
    assert not torch.allclose(model(enc, dec.flip(1), mask), theirs, atol=1e-3)


@pytest.mark.parametrize(
    ("num_streams", "extra"),
    [(1, ""), (3, ""), (1, "aligned_input"), (3, "aligned_input"), (1, "aligned_semantic"),
     (3, "aligned_semantic")],
)  # fmt: skip
@pytest.mark.parametrize("block", [64, 4])  # 4: steps and a prefill read a growing prefix
def test_cached_decoding_equals_teacher_forcing(
    num_streams: int, extra: str, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(t5, "CACHE_BLOCK", block)
    model = _model(num_streams, **({extra: True} if extra else {}))
    enc, dec, mask = _batch()
    if num_streams > 1:
        dec = torch.stack([dec, dec.roll(1, 1), dec.roll(2, 1)], dim=1)  # [B, S, L]
    frames = FRAMES if extra else None
    full = model(enc, dec, mask, query_frames=frames)
    memory = model.encode(enc, mask)
    cache = model.init_cache(memory, max_length=20, query_frames=frames)
    steps = [model.decode_step(dec[..., i : i + 1], cache) for i in range(dec.shape[-1])]
    stepped = torch.cat(steps, dim=-2)
    assert stepped.shape == full.shape
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)
    assert cache.length == dec.shape[-1]
    # a prefill of several positions at once agrees too
    cache = model.init_cache(memory, max_length=20, query_frames=frames)
    first = model.decode_step(dec[..., :5], cache)
    rest = model.decode_step(dec[..., 5:6], cache)
    torch.testing.assert_close(torch.cat([first, rest], -2), full[..., :6, :], atol=1e-5, rtol=1e-5)


def test_cache_overflow_is_refused() -> None:
    model = _model()
    enc, dec, _ = _batch()
    cache = model.init_cache(model.encode(enc), max_length=4)
    with pytest.raises(ValueError, match="cache holds 4"):
        model.decode_step(dec[:, :5], cache)


def test_decoder_is_causal() -> None:
    model = _model()
    enc, dec, _ = _batch()
    changed = dec.clone()
    changed[:, 7:] = 3
    a, b = model(enc, dec), model(enc, changed)
    torch.testing.assert_close(a[:, :7], b[:, :7])
    assert not torch.allclose(a[:, 7:], b[:, 7:])


def test_presets() -> None:
    with torch.device("meta"):  # shapes only, no memory or init time
        base = T5(preset_config("base", vocab_size=5122))
    n = sum(p.numel() for p in base.parameters())
    # T5 1.1 base is ~248 M parameters with its 32k vocabulary; with 5122 ids ~ 207 M
    assert 200e6 < n < 215e6


def test_position_buckets_match_transformers_at_base_settings() -> None:
    from transformers.models.t5.modeling_t5 import T5Attention

    relative = torch.arange(-5000, 5000)
    for bidirectional in (True, False):
        ours = relative_position_bucket(relative, bidirectional, 32, 128)
        theirs = T5Attention._relative_position_bucket(
            relative, bidirectional=bidirectional, num_buckets=32, max_distance=128
        )
        assert torch.equal(ours, theirs)
    assert len(ours.unique()) == 32  # causal: all buckets in one direction


def test_square_bias_equals_pairwise_bias() -> None:
    model = _model()
    pos = torch.arange(40)
    for stack in (model.encoder_bias, model.decoder_bias):
        torch.testing.assert_close(stack.square(40, pos.device), stack(pos, pos))


def _memories(model: T5) -> tuple[EncoderMemory, EncoderMemory]:
    """The encoder output of `_batch`, and the same with input frame 5's vector changed."""
    enc, _, mask = _batch()
    memory = model.encode(enc, mask)
    hidden = memory.hidden.clone()
    hidden[:, 5] = torch.randn(hidden.shape[-1], generator=torch.Generator().manual_seed(2))
    return memory, EncoderMemory(hidden, memory.mask)


def test_through_cross_attention_any_input_frame_reaches_every_step() -> None:
    model = _model()
    _, dec, _ = _batch()
    memory, moved = _memories(model)
    changed = model.decode(dec, moved) - model.decode(dec, memory)
    assert changed[:, 0].abs().amax(-1).min() > 0


def test_aligned_input_reaches_the_steps_of_its_frame_first() -> None:
    model = _model(aligned_input=True)
    _, dec, _ = _batch()
    memory, moved = _memories(model)
    # hide frame 5 from cross-attention: only the aligned input can carry it
    hidden = torch.zeros(memory.hidden.shape[:2])
    hidden[:, 5] = float("-inf")
    mask = hidden[:, None, None, :] if memory.mask is None else memory.mask + hidden[:, None, None]
    memory, moved = EncoderMemory(memory.hidden, mask), EncoderMemory(moved.hidden, mask)
    changed = (model.decode(dec, moved, FRAMES) - model.decode(dec, memory, FRAMES)).abs()
    # the step of frame 5 changes (and later ones, through self-attention); earlier don't
    assert changed[:, :5].max() == 0
    assert changed[:, 5].amax(-1).min() > 0
    with pytest.raises(ValueError, match="time-aligned"):
        model.decode(dec, memory)


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_semantic_sources_point_at_the_semantic_token_sounding_with_each_acoustic_step(
    kind: str,
) -> None:
    layout = TokenLayout(kind, 8, 2, 4, semantic_frames=6, acoustic_frames=9)
    semantic = np.arange(6)[None] % 8  # a distinct id per frame
    targets = layout.target_tokens(semantic, np.zeros((1, 2, 9), dtype=np.int64))
    first = layout.decoder_inputs(targets)[0]
    first = first[0] if kind == "delay" else first
    frames = layout.input_frames()
    sources = semantic_sources(torch.from_numpy(frames)).numpy()
    semantic_steps = np.arange(layout.target_steps) < 6
    assert (sources[semantic_steps] == -1).all() and sources[-1] == -1  # EOS reads nothing
    acoustic = ~semantic_steps & (sources >= 0)
    assert acoustic.sum() == layout.target_steps - 7
    # each acoustic step reads the semantic id of its own frame
    read = first[sources[acoustic]] - layout.semantic_offset
    np.testing.assert_array_equal(read, semantic[0, frames[acoustic]])


def test_aligned_semantic_adds_the_token_of_its_frame_to_the_acoustic_step() -> None:
    model = _model(aligned_semantic=True)
    _, dec, _ = _batch()
    memory, _ = _memories(model)
    changed = dec.clone()
    changed[:, 3] = (dec[:, 3] - 1) % 38 + 2  # fed at 3: the semantic token of frame 2

    def delta(m: T5) -> torch.Tensor:
        return (m.decode(changed, memory, FRAMES) - m.decode(dec, memory, FRAMES)).abs()

    direct = delta(model)
    with torch.no_grad():
        model.semantic_proj.weight.zero_()  # type: ignore[union-attr]
    through_attention = delta(model)
    assert direct[:, :3].max() == 0  # causal
    # FRAMES' step 8 is the acoustic step of frame 2: it also reads the token directly
    assert (direct[:, 8] - through_attention[:, 8]).abs().amax(-1).min() > 1e-4
