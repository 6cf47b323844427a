import numpy as np
import pytest
import torch

from bandmate.checkpoint import load_checkpoint
from bandmate.generate.decode import (
    FREE,
    ValidHead,
    forced_prefix,
    forced_runs,
    generate_targets,
    next_logits,
    valid_masks,
)
from bandmate.generate.sampling import SamplingConfig, sample


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_every_token_is_valid_for_its_position(kind, request):
    model, layout, _ = load_checkpoint(request.getfixturevalue(f"{kind}_checkpoint"))
    encoder = torch.from_numpy(layout.encoder_tokens(np.arange(3 * 100).reshape(3, 100) % 16))
    targets = generate_targets(
        model,
        layout,
        encoder,
        SamplingConfig(temperature=1.5, top_k=0),
        torch.Generator().manual_seed(0),
    ).numpy()
    assert targets.shape == (3, *layout.target_shape)
    valid = layout.valid_mask()  # [*target_shape, V]
    picked = np.take_along_axis(valid[None], targets[..., None], axis=-1)[..., 0]
    assert picked.all()
    semantic, acoustic = layout.split_target(targets)
    assert semantic.min() >= 0 and acoustic.max() < layout.codebook_size


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_forced_positions_are_kept(kind, request):
    model, layout, _ = load_checkpoint(request.getfixturevalue(f"{kind}_checkpoint"))
    rng = np.random.default_rng(0)
    sem = rng.integers(0, layout.semantic_vocab_size, (2, 10))
    ac = rng.integers(0, layout.codebook_size, (2, layout.num_codebooks, 15))
    forced = forced_prefix(layout, sem, ac)
    assert (forced != FREE).sum() == 2 * (10 + layout.num_codebooks * 15)
    encoder = torch.from_numpy(layout.encoder_tokens(np.zeros((2, 100), dtype=np.int64)))
    targets = generate_targets(
        model,
        layout,
        encoder,
        SamplingConfig(),
        torch.Generator().manual_seed(1),
        torch.from_numpy(forced),
    )
    got_sem, got_ac = layout.split_target(targets.numpy())
    np.testing.assert_array_equal(got_sem[:, :10], sem)
    np.testing.assert_array_equal(got_ac[:, :, :15], ac)


def test_sampling_filters():
    logits = torch.tensor([[0.0, 5.0, 4.0, 3.0, -1.0]])
    valid = torch.tensor([True, False, True, True, True])
    assert sample(logits, valid, SamplingConfig(temperature=0.0)).item() == 2  # 1 is masked
    gen = torch.Generator().manual_seed(0)
    draws = {sample(logits, valid, SamplingConfig(top_k=2), gen).item() for _ in range(200)}
    assert draws == {2, 3}
    draws = {
        sample(logits, valid, SamplingConfig(top_k=0, top_p=0.5), gen).item() for _ in range(200)
    }
    assert draws == {2}
    with pytest.raises(ValueError):
        SamplingConfig(top_p=2.0)


def test_sampling_draws_in_proportion_over_streams_and_never_an_invalid_id():
    # Drawing among the top k (here all 4, one of them masked) keeps softmax's proportions.
    probs = torch.tensor([0.5, 0.3, 0.2, 0.9])
    logits = probs.log().expand(4000, 2, 4)  # [B, S, V]
    valid = torch.tensor([True, True, True, False])
    ids = sample(logits, valid, SamplingConfig(top_k=10), torch.Generator().manual_seed(0))
    assert ids.shape == (4000, 2) and not (ids == 3).any()
    shares = torch.bincount(ids.flatten(), minlength=4)[:3] / ids.numel()
    torch.testing.assert_close(shares, probs[:3] / probs[:3].sum(), atol=0.03, rtol=0)
    cold = sample(logits, valid, SamplingConfig(temperature=0.25), torch.Generator().manual_seed(0))
    assert (cold == 0).float().mean() > 0.85  # 0.5^4 : 0.3^4 : 0.2^4 -> 0.87 on id 0


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_guidance_contrasts_the_input_with_the_null_input(kind, request):
    model, layout, _ = load_checkpoint(request.getfixturevalue(f"{kind}_checkpoint"))
    encoder = torch.from_numpy(layout.encoder_tokens(np.arange(2 * 100).reshape(2, 100) % 16))
    null = torch.from_numpy(layout.null_input()).expand_as(encoder)
    token = torch.zeros((2, *layout.target_shape[:-1], 1), dtype=torch.long)
    steps = layout.target_steps
    cache = model.init_cache(model.encode(torch.cat([encoder, null])), steps)
    guided = next_logits(model, token, cache, guidance=2.0)
    given = model.init_cache(model.encode(encoder), steps)
    alone = model.init_cache(model.encode(null), steps)
    want = 3.0 * next_logits(model, token, given, 0.0) - 2.0 * next_logits(model, token, alone, 0.0)
    torch.testing.assert_close(guided, want, atol=1e-4, rtol=1e-4)
    # and generation with guidance keeps every token valid for its position
    targets = generate_targets(
        model, layout, encoder, SamplingConfig(guidance=2.0), torch.Generator().manual_seed(0)
    ).numpy()
    valid = np.take_along_axis(layout.valid_mask()[None], targets[..., None], axis=-1)
    assert targets.shape == (2, *layout.target_shape) and valid.all()
    with pytest.raises(ValueError, match="guidance"):
        SamplingConfig(guidance=-1.0)


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_valid_head_gives_the_full_logits_of_each_steps_valid_ids(kind, request):
    model, layout, _ = load_checkpoint(request.getfixturevalue(f"{kind}_checkpoint"))
    head = ValidHead(model, layout)
    hidden = torch.randn(3, model.config.d_model)
    full = model.head(hidden[:, None])[..., 0, :]  # [B, V] or [B, S, V]
    full = full if layout.num_streams > 1 else full[:, None]  # [B, S, V]
    valid_ids = valid_masks(layout, torch.device("cpu"))  # [T, (S,) V]
    valid_ids = valid_ids if layout.num_streams > 1 else valid_ids[:, None]
    for t in range(layout.target_steps):
        logits, valid = head.logits(hidden, t)
        ids = head.lo[t][:, None] + torch.arange(valid.shape[1])  # [S, W]
        for s in range(layout.num_streams):
            got = logits[:, s, valid[s]]
            want = full[:, s, ids[s, valid[s]]]
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
            assert valid[s].sum() == valid_ids[t, s].sum()  # every valid id, and no other
            assert valid_ids[t, s, ids[s, valid[s]]].all()


def step_by_step(model, layout, encoder, forced, guidance):
    """The decoding loop before forced steps were fed in one pass: every step through the
    model one at a time, greedy, forced ids put in place of the sampled ones."""
    from bandmate.generate.decode import next_hidden

    steps, batch = layout.target_steps, encoder.shape[0]
    if guidance:
        encoder = torch.cat([encoder, torch.from_numpy(layout.null_input()).expand_as(encoder)])
    frames = torch.from_numpy(layout.input_frames())
    cache = model.init_cache(model.encode(encoder), steps, frames)
    head = ValidHead(model, layout)
    out = torch.zeros((batch, *layout.target_shape), dtype=torch.long)
    token = torch.zeros((batch, *layout.target_shape[:-1], 1), dtype=torch.long)
    for t in range(steps):
        logits, valid = head.logits(next_hidden(model, token, cache, guidance), t)
        ids = sample(logits, valid, SamplingConfig(temperature=0.0)) + head.lo[t]
        ids = ids if layout.num_streams > 1 else ids[:, 0]
        ids = torch.where(forced[..., t] != FREE, forced[..., t], ids)
        out[..., t] = ids
        token = ids[..., None]
    return out


@pytest.mark.parametrize("kind", ["flatten", "delay"])
@pytest.mark.parametrize("guidance", [0.0, 3.0])
def test_forced_steps_fed_in_one_pass_decode_as_one_at_a_time(kind, guidance, request):
    """Feeding a run of forced steps in one pass fills the cache as feeding them one by one
    does: greedy decoding after a forced prefix is the same either way."""
    model, layout, _ = load_checkpoint(request.getfixturevalue(f"{kind}_checkpoint"))
    rng = np.random.default_rng(2)
    sem = rng.integers(0, layout.semantic_vocab_size, (2, 20))
    ac = rng.integers(0, layout.codebook_size, (2, layout.num_codebooks, 30))
    forced = torch.from_numpy(forced_prefix(layout, sem, ac))
    encoder = torch.from_numpy(layout.encoder_tokens(rng.integers(0, 16, (2, 100))))
    greedy = SamplingConfig(temperature=0.0, guidance=guidance)
    got = generate_targets(model, layout, encoder, greedy, None, forced)
    expected = step_by_step(model, layout, encoder, forced, guidance)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert max(forced_runs(forced, layout.target_steps)) > 1  # a run went in one pass
