"""Residual vector quantization with EMA codebooks (the EnCodec / SoundStream recipe),
looked up in a small projected space (DAC's factorized, l2-normalized codes).

Each stage quantizes what the previous stages left over. Codebooks are not trained by
gradients: they follow an exponential moving average of the vectors assigned to them,
start from k-means on real latents, and codes nobody uses are restarted on random
latents of the current batch. The encoder sees a commitment loss that pulls its output
towards the chosen entries; gradients pass the quantizer straight through.

Why the projection: looked up directly in the 128-dim latent space, a small-batch CPU
run collapsed to a handful of codes within 20 steps of k-means init, whatever the EMA
decay or restart rate (in high dimensions, a centroid of many noisy vectors is nearer
to every new vector than any single restarted sample). A learned projection to
`code_dim` (8) dims, normalised to the unit sphere, gives codes a space they can tile.

Letters: B batch, D latent dim, d code dim, F frames, K codebooks, N codebook size,
M vectors.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from bandmate.kmeans import kmeans, nearest


class EMACodebook(nn.Module):
    """One codebook of `size` unit-norm entries of dimension `dim`, updated by EMA in
    training (the EMA mean is renormalised; vectors given to it must be unit-norm too).

    Besides the EMA statistics it tracks `usage`: each code's share of assignments
    relative to an even spread (1 = average), averaged over the last ~20 steps. With
    small batches most codes get no vector in any one step, so deadness must be judged
    over a window; a faster average than the codebook's own notices stale codes within
    a few dozen steps instead of hundreds.
    """

    def __init__(
        self,
        dim: int,
        size: int,
        decay: float,
        dead_code_fraction: float,
        usage_decay: float = 0.95,
    ) -> None:
        super().__init__()
        self.decay = decay
        # A code is dead when its usage falls below this share of an even spread.
        self.dead_code_fraction = dead_code_fraction
        self.usage_decay = usage_decay
        self.register_buffer("embed", F.normalize(torch.randn(size, dim), dim=-1))
        self.register_buffer("embed_sum", self.embed.clone())
        self.register_buffer("cluster_size", torch.ones(size))
        self.register_buffer("usage", torch.ones(size))
        self.embed: torch.Tensor
        self.embed_sum: torch.Tensor
        self.cluster_size: torch.Tensor
        self.usage: torch.Tensor

    @property
    def size(self) -> int:
        return int(self.embed.shape[0])

    @torch.no_grad()
    def init_kmeans(self, vectors: torch.Tensor, iters: int = 20, seed: int = 0) -> None:
        """Set the entries to k-means centres of `vectors` [M, D] (`bandmate.kmeans`, on
        the CPU: a few thousand latents, once per run)."""
        generator = torch.Generator().manual_seed(seed)
        centres = kmeans(vectors.detach().float().cpu(), self.size, iters, generator)
        centres = F.normalize(centres, dim=-1)
        self.embed.copy_(centres)
        self.embed_sum.copy_(centres)
        self.cluster_size.fill_(1.0)
        self.usage.fill_(1.0)

    def encode(self, vectors: torch.Tensor) -> torch.Tensor:
        """[M, D] -> [M] int64 codes."""
        return nearest(vectors.float(), self.embed)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """[...] int64 -> [..., D]."""
        return F.embedding(codes, self.embed)

    @torch.no_grad()
    def update(self, vectors: torch.Tensor, codes: torch.Tensor) -> int:
        """EMA step towards the mean of the vectors assigned to each code, then restart
        dead codes on random vectors of this batch. Returns how many were restarted.

        Args:
            vectors: [M, D] float32 (detached).
            codes: [M] int64, their assignments.
        """
        counts = torch.bincount(codes, minlength=self.size).to(vectors.dtype)
        sums = torch.zeros_like(self.embed).index_add_(0, codes, vectors)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        even = vectors.shape[0] / self.size
        self.usage.mul_(self.usage_decay).add_(counts / even, alpha=1 - self.usage_decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        # Laplace smoothing keeps rarely used codes from dividing by ~0.
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + 1e-5) / (total + self.size * 1e-5) * total
        self.embed.copy_(F.normalize(self.embed_sum / smoothed[:, None], dim=-1))
        return self._restart_dead(vectors)

    def _restart_dead(self, vectors: torch.Tensor) -> int:
        dead = self.usage < self.dead_code_fraction
        count = int(dead.sum())
        if count == 0:
            return 0
        picks = torch.randint(vectors.shape[0], (count,), device=vectors.device)
        # A restarted code starts as if it had an average share of this batch.
        even = vectors.shape[0] / self.size
        self.embed[dead] = vectors[picks]
        self.embed_sum[dead] = vectors[picks] * even
        self.cluster_size[dead] = even
        self.usage[dead] = 1.0
        return count


class ResidualVQ(nn.Module):
    """`num_codebooks` stages, each: project the residual to `code_dim`, normalise, pick
    the nearest unit-norm entry, project back to `dim` and subtract.

    Forward returns (quantized [B, D, F], codes [B, K, F], commitment loss, stats).
    """

    def __init__(
        self,
        dim: int,
        num_codebooks: int,
        codebook_size: int,
        code_dim: int = 8,
        decay: float = 0.99,
        dead_code_fraction: float = 0.1,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            EMACodebook(code_dim, codebook_size, decay, dead_code_fraction)
            for _ in range(num_codebooks)
        )
        self.project_in = nn.ModuleList(nn.Linear(dim, code_dim) for _ in range(num_codebooks))
        self.project_out = nn.ModuleList(nn.Linear(code_dim, dim) for _ in range(num_codebooks))

    @property
    def codebooks(self) -> list[EMACodebook]:
        return [cast(EMACodebook, layer) for layer in self.layers]

    def _stages(self) -> list[tuple[EMACodebook, nn.Module, nn.Module]]:
        return list(zip(self.codebooks, self.project_in, self.project_out, strict=True))

    @torch.no_grad()
    def init_kmeans(self, latents: torch.Tensor, iters: int = 20, seed: int = 0) -> None:
        """Fit each stage by k-means on what the previous stages leave.

        Args:
            latents: [B, D, F] encoder outputs.
        """
        residual = _flatten(latents).float()
        for index, (book, proj_in, proj_out) in enumerate(self._stages()):
            projected = F.normalize(proj_in(residual), dim=-1)
            book.init_kmeans(projected, iters, seed + index)
            residual = residual - proj_out(book.decode(book.encode(projected)))

    def forward(
        self, latents: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, float]]:
        batch, _, frames = latents.shape
        residual = _flatten(latents)  # [M, D]
        quantized = torch.zeros_like(residual)
        commitment = residual.new_zeros(())
        codes, stats = [], {}
        for index, (book, proj_in, proj_out) in enumerate(self._stages()):
            projected = F.normalize(proj_in(residual), dim=-1)  # [M, d]
            code = book.encode(projected.detach())
            chosen = book.decode(code)
            commitment = commitment + F.mse_loss(projected, chosen.detach())
            if self.training:
                stats[f"vq/restarted_{index}"] = float(book.update(projected.detach(), code))
                stats[f"vq/used_{index}"] = float(torch.unique(code).numel())
            # Straight-through: forward uses the entry, backward treats it as `projected`.
            stage = proj_out(projected + (chosen - projected).detach())  # [M, D]
            quantized = quantized + stage
            residual = residual - stage
            codes.append(code)
        out = quantized.view(batch, frames, -1).transpose(1, 2)
        stacked = torch.stack(codes, dim=1).view(batch, frames, -1).transpose(1, 2)
        return out, stacked.contiguous(), commitment, stats

    @torch.no_grad()
    def encode(self, latents: torch.Tensor) -> torch.Tensor:
        """[B, D, F] -> codes [B, K, F] int64."""
        batch, _, frames = latents.shape
        residual = _flatten(latents).float()
        codes = []
        for book, proj_in, proj_out in self._stages():
            code = book.encode(F.normalize(proj_in(residual), dim=-1))
            residual = residual - proj_out(book.decode(code))
            codes.append(code)
        return torch.stack(codes, dim=1).view(batch, frames, -1).transpose(1, 2).contiguous()

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, F] -> quantized latents [B, D, F] (sum of the projected entries)."""
        stages = self._stages()
        out = sum(
            proj_out(book.decode(codes[:, k])) for k, (book, _, proj_out) in enumerate(stages)
        )
        assert isinstance(out, torch.Tensor)
        return out.transpose(1, 2)


def _flatten(latents: torch.Tensor) -> torch.Tensor:
    """[B, D, F] -> [B * F, D]."""
    return latents.transpose(1, 2).reshape(-1, latents.shape[1])
