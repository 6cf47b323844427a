"""Token layout: round trips, masks, loss weights."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.errors import DataError
from bandmate.tokens.layout import (
    EOS_ID,
    PAD_ID,
    PART_ACOUSTIC,
    PART_EOS,
    PART_SEMANTIC,
    TokenLayout,
    layout_from_manifest,
)


def _layout(kind: str) -> TokenLayout:
    return TokenLayout(kind, 16, 3, 8, semantic_frames=5, acoustic_frames=7)


def _raw(layout: TokenLayout, n: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    k, f_sem, f_ac = layout.num_codebooks, layout.semantic_frames, layout.acoustic_frames
    inp = rng.integers(0, layout.semantic_vocab_size, (n, f_sem))
    sem = rng.integers(0, layout.semantic_vocab_size, (n, f_sem))
    ac = rng.integers(0, layout.codebook_size, (n, k, f_ac))
    return inp, sem, ac


def test_thesis_vocabulary() -> None:
    layout = TokenLayout("flatten", 1024, 4, 1024, 500, 750)
    assert layout.vocab_size == 5122
    assert layout.target_shape == (3501,)
    assert TokenLayout("delay", 1024, 4, 1024, 500, 750).target_shape == (4, 1254)


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_round_trip(kind: str) -> None:
    layout = _layout(kind)
    inp, sem, ac = _raw(layout)
    targets = layout.target_tokens(sem, ac)
    assert targets.shape == (4, *layout.target_shape)
    back_sem, back_ac = layout.split_target(targets)
    np.testing.assert_array_equal(back_sem, sem)
    np.testing.assert_array_equal(back_ac, ac)
    enc = layout.encoder_tokens(inp)
    np.testing.assert_array_equal(enc[:, :-1] - layout.semantic_offset, inp)
    assert (enc[:, -1] == EOS_ID).all()


def test_flatten_is_frame_by_frame() -> None:
    layout = _layout("flatten")
    _, sem, ac = _raw(layout, 1)
    flat = layout.target_tokens(sem, ac)[0]
    f_sem = layout.semantic_frames
    # position f_sem + 3*t + k holds codebook k of frame t
    assert flat[f_sem + 3 * 2 + 1] == ac[0, 1, 2] + layout.codebook_offset(1)
    assert flat[-1] == EOS_ID


def test_delay_shifts_codebook_k_by_k_steps() -> None:
    layout = _layout("delay")
    _, sem, ac = _raw(layout, 1)
    out = layout.target_tokens(sem, ac)[0]
    f_sem = layout.semantic_frames
    for k in range(3):
        assert out[k, f_sem + k] == ac[0, k, 0] + layout.codebook_offset(k)
        assert (out[k, f_sem : f_sem + k] == PAD_ID).all()
    assert (out[1:, :f_sem] == PAD_ID).all()


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_every_mask_admits_exactly_its_range(kind: str) -> None:
    layout = _layout(kind)
    _, sem, ac = _raw(layout)
    targets = layout.target_tokens(sem, ac)
    mask = layout.valid_mask()
    assert mask.shape == (*layout.target_shape, layout.vocab_size)
    # each real target token is admitted at its position
    picked = np.take_along_axis(mask[None], targets[..., None], axis=-1)[..., 0]
    assert picked.all()
    ranges = layout.position_ranges()
    sizes = mask.sum(-1)
    np.testing.assert_array_equal(sizes, ranges[..., 1] - ranges[..., 0])
    parts = layout.parts()
    assert (sizes[parts == PART_SEMANTIC] == layout.semantic_vocab_size).all()
    assert (sizes[parts == PART_ACOUSTIC] == layout.codebook_size).all()
    assert (sizes[parts == PART_EOS] == 1).all()
    # the ranges of different codebooks never overlap
    first = mask[..., layout.codebook_offset(0)]
    second = mask[..., layout.codebook_offset(1)]
    assert not (first & second).any()
    weights = layout.loss_weights()
    assert weights.sum() == layout.semantic_frames + 3 * layout.acoustic_frames + 1


def test_decoder_inputs_shift_right() -> None:
    layout = _layout("flatten")
    _, sem, ac = _raw(layout, 2)
    targets = layout.target_tokens(sem, ac)
    inputs = layout.decoder_inputs(targets)
    assert (inputs[:, 0] == PAD_ID).all()
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])


def test_from_manifest() -> None:
    manifest = {"semantic": {"vocab_size": 16}, "codec": {"codebook_size": 8, "num_codebooks": 3}}
    layout = layout_from_manifest(manifest, "flatten", 5, (3, 7))
    assert layout == _layout("flatten")
    with pytest.raises(DataError, match="num_codebooks"):
        layout_from_manifest(manifest, "flatten", 5, (4, 7))
    with pytest.raises(DataError, match="vocab_size"):
        layout_from_manifest({}, "flatten", 5, (3, 7))
