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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.avg_pool2d(x.clamp(min=self.eps).pow(self.p), (x.size(-2), x.size(-1)))
        return pooled.pow(1.0 / self.p).flatten(1)
