"""k-means (bandmate.kmeans), the one both the semantic tokenizer and the codec's
codebooks are fitted with."""

from __future__ import annotations

import torch

from bandmate.kmeans import StreamingKMeans, kmeans, nearest


def test_nearest_picks_the_closest_entry() -> None:
    embed = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    vectors = torch.tensor([[9.0, 1.0], [1.0, 8.0], [0.5, -0.5]])
    assert nearest(vectors, embed).tolist() == [1, 2, 0]


def test_kmeans_finds_separated_clusters() -> None:
    torch.manual_seed(0)
    centres = torch.tensor([[5.0, 5.0], [-5.0, 5.0], [0.0, -5.0]])
    points = torch.cat([c + 0.1 * torch.randn(50, 2) for c in centres])
    found = kmeans(points, 3, iters=10)
    distances = torch.cdist(centres, found).min(dim=1).values
    assert (distances < 0.2).all()


def test_kmeans_with_fewer_vectors_than_clusters() -> None:
    found = kmeans(torch.randn(5, 3), 16, iters=2)
    assert found.shape == (16, 3)
    assert torch.isfinite(found).all()


def test_streaming_kmeans_finds_separated_blobs():
    generator = torch.Generator().manual_seed(1)
    centres = 10 * torch.randn(8, 5, generator=generator)
    labels = torch.arange(8).repeat(300)
    frames = centres[labels] + 0.1 * torch.randn(len(labels), 5, generator=generator)
    streaming = StreamingKMeans(8, seed=0, init_frames=400)
    for batch in frames.split(256):
        streaming.partial_fit(batch)
    ids = streaming.finish().assign(frames)
    # Same blob <-> same cluster (ids are a relabelling of the blobs).
    pairs = set(zip(labels.tolist(), ids.tolist(), strict=True))
    assert len(pairs) == 8 and len({i for _, i in pairs}) == 8


def test_streaming_kmeans_with_fewer_frames_than_clusters_still_fits():
    streaming = StreamingKMeans(64, seed=0)
    streaming.partial_fit(torch.randn(10, 3))
    ids = streaming.finish().assign(torch.randn(20, 3))
    assert ids.shape == (20,) and int(ids.max()) < 64
