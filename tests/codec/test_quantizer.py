from __future__ import annotations

import torch

from bandmate.codec.quantizer import EMACodebook, ResidualVQ


def test_ema_update_moves_unit_entries_towards_assigned_means() -> None:
    book = EMACodebook(dim=2, size=2, decay=0.5, dead_code_fraction=0.0)
    book.embed.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    book.embed_sum.copy_(book.embed)
    target = torch.nn.functional.normalize(torch.tensor([[1.0, 0.3]]), dim=-1)
    vectors = torch.cat([target, target, torch.tensor([[0.0, 1.0]])])
    before = book.embed.clone()
    book.update(vectors, book.encode(vectors))
    assert torch.linalg.norm(book.embed[0] - target[0]) < torch.linalg.norm(before[0] - target[0])
    torch.testing.assert_close(book.embed.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(book.embed[1], torch.tensor([0.0, 1.0]))


def test_dead_codes_restart_on_batch_vectors() -> None:
    book = EMACodebook(dim=2, size=4, decay=0.9, dead_code_fraction=0.1)
    book.embed.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]))
    book.embed_sum.copy_(book.embed)
    book.usage.fill_(0.01)
    vectors = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1]]) + 0.01 * torch.randn(64, 2))
    restarted = book.update(vectors, book.encode(vectors))
    assert restarted == 3  # entries 1-3 got no vector and had ~no usage
    assert (book.embed[:, 0] > 0.9).all()  # all entries now sit among the batch


def test_residual_vq_shapes_and_code_range() -> None:
    rvq = ResidualVQ(dim=6, num_codebooks=3, codebook_size=16, code_dim=4)
    latents = torch.randn(2, 6, 11)  # [B, D, F]
    rvq.init_kmeans(latents, iters=3)
    codes = rvq.encode(latents)
    assert codes.shape == (2, 3, 11) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < 16
    assert rvq.decode(codes).shape == latents.shape


def test_kmeans_init_gives_each_stage_many_codes() -> None:
    torch.manual_seed(0)
    rvq = ResidualVQ(dim=16, num_codebooks=3, codebook_size=32, code_dim=4)
    latents = torch.randn(4, 16, 100)
    rvq.init_kmeans(latents, iters=10)
    codes = rvq.encode(latents)
    for k in range(3):
        assert codes[:, k].unique().numel() > 16  # no stage collapses onto a few codes


def test_forward_is_straight_through_and_matches_encode() -> None:
    rvq = ResidualVQ(dim=4, num_codebooks=2, codebook_size=8, code_dim=2).eval()
    latents = torch.randn(2, 4, 5, requires_grad=True)
    rvq.init_kmeans(latents.detach(), iters=2)
    quantized, codes, commitment, _ = rvq(latents)
    assert torch.equal(codes, rvq.encode(latents.detach()))
    torch.testing.assert_close(quantized, rvq.decode(codes))
    (quantized.sum() + commitment).backward()
    assert latents.grad is not None and latents.grad.abs().sum() > 0
