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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        x = F.normalize(x, p=2, dim=1)
        soft = F.softmax(self.conv(x).flatten(2), dim=1)  # [N, K, HW]
        flat = x.flatten(2)  # [N, C, HW]
        vlad = torch.einsum("nkl,ncl->nkc", soft, flat) - soft.sum(-1).unsqueeze(-1) * self.centroids.unsqueeze(0)
        vlad = F.normalize(vlad, p=2, dim=2)
        return vlad.reshape(n, -1)
