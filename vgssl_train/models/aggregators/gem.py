"""Generalised-mean pooling (Radenovic et al.), p learnable, initialised at 3."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GeM(nn.Module):
    """[N, C, H, W] -> [N, C]: (mean over H, W of clamp(x, eps)^p)^(1/p)."""

    def __init__(self, in_channels: int, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor([float(p)]))
        self.eps = eps
        self.out_dim = in_channels

    def _powered(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> clamp(x, eps)^p [N, C, H, W]: what the pooling averages."""
        return x.clamp(min=self.eps).pow(self.p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.avg_pool2d(self._powered(x), (x.size(-2), x.size(-1)))
        return pooled.pow(1.0 / self.p).flatten(1)

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> [N, H, W]: each location's contribution to the pooled descriptor, clamp(x, eps)^p
        summed over channels (taken as the channel mean, which is the sum up to a constant and stays in fp16 range)."""
        return self._powered(x).mean(1)
