"""NetVLAD (Arandjelovic et al.): soft-assignment residual aggregation, centroids from data."""

from __future__ import annotations

import faiss
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class NetVLAD(nn.Module):
    """[N, C, H, W] -> [N, K*C], intra-normalised per cluster then flattened (not yet L2-normalised)."""

    def __init__(self, in_channels: int, clusters: int = 64, alpha: float = 100.0) -> None:
        super().__init__()
        self.clusters, self.alpha = clusters, alpha
        self.conv = nn.Conv2d(in_channels, clusters, kernel_size=1, bias=True)
        self.centroids = nn.Parameter(torch.randn(clusters, in_channels) * 0.1)
        self.out_dim = clusters * in_channels

    @torch.no_grad()
    def init_from_features(self, local_features: np.ndarray, seed: int = 0) -> None:
        """Set centroids by k-means on local descriptors [M, C] (M >= clusters), as in the paper."""
        x = np.ascontiguousarray(local_features, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] < self.clusters:
            raise ValueError(f"NetVLAD init needs >= {self.clusters} local descriptors [M, C], got {x.shape}")
        x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
        kmeans = faiss.Kmeans(x.shape[1], self.clusters, niter=50, seed=seed, verbose=False)
        kmeans.train(x)
        centroids = kmeans.centroids
        dots = np.sort(x @ centroids.T, axis=1)[:, ::-1]
        # alpha so that the soft assignment is sharp: ratio of the two closest similarities.
        self.alpha = float((-np.log(0.01) / np.mean(dots[:, 0] - dots[:, 1])).clip(1.0, 1e4))
        c = torch.from_numpy(centroids)
        self.centroids.copy_(c)
        self.conv.weight.copy_((2.0 * self.alpha * c).unsqueeze(-1).unsqueeze(-1))
        self.conv.bias.copy_(-self.alpha * c.norm(dim=1))

    def _assign(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[N, C, H, W] -> L2-normalised local descriptors [N, C, HW] and their soft assignment [N, K, HW]."""
        x = F.normalize(x, p=2, dim=1)
        return x.flatten(2), F.softmax(self.conv(x).flatten(2), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        flat, soft = self._assign(x)  # [N, C, HW], [N, K, HW]
        vlad = torch.einsum("nkl,ncl->nkc", soft, flat) - soft.sum(-1).unsqueeze(-1) * self.centroids.unsqueeze(0)
        vlad = F.normalize(vlad, p=2, dim=2)
        return vlad.reshape(n, -1)

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> [N, H, W]: per location, the soft-assignment mass weighted by the residual norm,
        sum over clusters k of soft[k] * |x - c_k| (unit-norm x, so |x - c_k|^2 = 1 - 2 x.c_k + |c_k|^2)."""
        flat, soft = self._assign(x)
        c = self.centroids
        dist2 = 1.0 - 2.0 * torch.einsum("kc,ncl->nkl", c, flat) + (c * c).sum(1).view(1, -1, 1)
        return (soft * dist2.clamp(min=0.0).sqrt()).sum(1).reshape(x.size(0), x.size(-2), x.size(-1))
