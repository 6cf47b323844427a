"""k-means, one implementation for the project: the semantic tokenizer's clusters
(`StreamingKMeans`, tokens/semantic.py) and the codec's first codebooks
(`ResidualVQ.init_kmeans`, codec/quantizer.py) are both fitted by `kmeans` here.

- `nearest`: each vector's nearest centroid (squared L2), in chunks.
- `kmeans`: k-means++ seeding, then Lloyd iterations (an empty cluster keeps its centre).
- `StreamingKMeans`: fitted over clips one batch at a time, never holding all frames.
  The first `init_frames` frames are buffered; they fix the per-dimension
  standardisation (as AudioLM does before clustering w2v-BERT embeddings) and are
  clustered by `kmeans`. Every later batch moves each centroid towards the mean of the
  frames it won (mini-batch k-means, Sculley 2010), with per-centroid counts as learning
  rates.

Letters: N vectors (frames), D dimension, K clusters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


def nearest(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """x [N, D], centroids [K, D] -> ids [N] int64 of the nearest centroid (squared L2)."""
    # argmin |x - c|^2 = argmax (2 x.c - |c|^2); chunked so N x K never gets large.
    bias = centroids.square().sum(dim=1)
    out = [(2 * chunk @ centroids.T - bias).argmax(dim=1) for chunk in x.split(8192)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=x.device)


def kmeans(
    vectors: torch.Tensor,
    num_clusters: int,
    iters: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Centroids of `vectors` [N, D] (float32, CPU): k-means++ seeds, then `iters` Lloyd steps.

    Args:
        vectors: the data; with fewer than `num_clusters`, seeds repeat vectors with a
            small jitter (so that copies can separate later, e.g. under a codebook EMA).
        num_clusters: K.
        iters: Lloyd iterations after seeding.
        generator: the seeding's random draws (default: seed 0).
    Returns:
        centroids [K, D].
    """
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    centroids = _seed(vectors, num_clusters, generator)
    for _ in range(iters):
        sums, counts = _cluster_sums(vectors, nearest(vectors, centroids), num_clusters)
        used = counts > 0
        centroids[used] = sums[used] / counts[used, None]
    return centroids


def _seed(data: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding (each next seed drawn with probability ~ squared distance to the
    nearest seed so far) on at most 3 K vectors, as scikit-learn's mini-batch k-means
    does; vectors repeated with a small jitter when there are fewer than K."""
    n = data.shape[0]
    if n < k:
        picks = torch.randint(n, (k,), generator=generator)
        return data[picks] + 1e-3 * torch.randn(k, data.shape[1], generator=generator)
    pool = data[torch.randperm(n, generator=generator)[: 3 * k]]
    norms = pool.square().sum(dim=1)  # |x|^2, so |x - c|^2 costs one mat-vec per seed

    def dist2(index: int) -> torch.Tensor:
        return (norms - 2 * pool @ pool[index] + norms[index]).clamp_min(0)

    seeds = [0]  # the pool is already in random order
    d2 = dist2(0)
    for _ in range(1, k):
        cumulative = d2.cumsum(dim=0)
        draw = torch.rand(1, generator=generator) * cumulative[-1]
        seeds.append(min(int(torch.searchsorted(cumulative, draw)), len(pool) - 1))
        d2 = torch.minimum(d2, dist2(seeds[-1]))
    return pool[seeds].clone()


def _cluster_sums(
    data: torch.Tensor, ids: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-cluster sums [K, D] and counts [K] of `data` [N, D] under assignment `ids` [N]."""
    sums = torch.zeros(k, data.shape[1]).index_add_(0, ids, data)
    return sums, torch.bincount(ids, minlength=k).float()


@dataclass(frozen=True)
class KMeansState:
    """What a fitted semantic tokenizer stores: standardisation and centroids."""

    mean: torch.Tensor  # [D]
    std: torch.Tensor  # [D]
    centroids: torch.Tensor  # [K, D], in standardised units

    def assign(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [..., D] -> nearest centroid ids [...] int64."""
        flat = ((frames.reshape(-1, frames.shape[-1]) - self.mean) / self.std).float()
        return nearest(flat, self.centroids).reshape(frames.shape[:-1])


class StreamingKMeans:
    """Mini-batch k-means over a stream of frame batches; deterministic for a given seed."""

    def __init__(
        self,
        num_clusters: int,
        seed: int = 0,
        init_frames: int | None = None,
        lloyd_steps: int = 10,
    ) -> None:
        self.num_clusters = num_clusters
        self.init_frames = init_frames or 16 * num_clusters
        self.lloyd_steps = lloyd_steps
        self.generator = torch.Generator().manual_seed(seed)
        self.buffer: list[torch.Tensor] = []
        self.buffered = 0
        self.state: KMeansState | None = None
        self.counts = torch.zeros(num_clusters)
        self.frames_seen = 0

    def partial_fit(self, frames: torch.Tensor) -> None:
        """Feed frames [N, D]."""
        frames = frames.reshape(-1, frames.shape[-1]).float()
        self.frames_seen += frames.shape[0]
        if self.state is None:
            self.buffer.append(frames)
            self.buffered += frames.shape[0]
            if self.buffered >= self.init_frames:
                self._initialise()
            return
        self._update((frames - self.state.mean) / self.state.std)

    def finish(self) -> KMeansState:
        """The fitted state (initialises from the buffer when the stream was short)."""
        if self.state is None:
            if not self.buffered:
                raise ValueError("k-means got no frames to fit")
            self._initialise()
        assert self.state is not None
        log.info(
            "k-means: %d clusters from %d frames, %d clusters never used",
            self.num_clusters,
            self.frames_seen,
            int((self.counts == 0).sum()),
        )
        return self.state

    def _initialise(self) -> None:
        data = torch.cat(self.buffer)
        self.buffer = []
        mean, std = data.mean(dim=0), data.std(dim=0).clamp_min(1e-5)
        data = (data - mean) / std
        centroids = kmeans(data, self.num_clusters, self.lloyd_steps, self.generator)
        self.counts = torch.bincount(nearest(data, centroids), minlength=self.num_clusters).float()
        self.state = KMeansState(mean, std, centroids)

    def _update(self, data: torch.Tensor) -> None:
        assert self.state is not None
        ids = nearest(data, self.state.centroids)
        sums, counts = _cluster_sums(data, ids, self.num_clusters)
        self.counts += counts
        used = counts > 0
        centroids = self.state.centroids
        # Running mean of every frame a centroid has won: c += (sum - n c) / total_n.
        centroids[used] += (sums[used] - counts[used, None] * centroids[used]) / self.counts[
            used, None
        ]
