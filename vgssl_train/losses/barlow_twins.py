"""Barlow Twins (Zbontar et al. 2021): drive the cross-correlation matrix of two views to identity."""

from __future__ import annotations

import torch
from torch import nn


class BarlowTwinsLoss(nn.Module):
    """sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2, C the batch-standardised cross-correlation."""

    def __init__(self, lambda_offdiag: float = 0.0051, eps: float = 1e-5) -> None:
        super().__init__()
        self.lambda_offdiag = lambda_offdiag
        self.eps = eps

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
        """z_a, z_b [N, D] with N >= 2 -> scalar loss."""
        n = len(z_a)
        if n < 2:
            raise ValueError("Barlow Twins needs at least 2 samples per batch to standardise features")
        a = (z_a - z_a.mean(0)) / (z_a.std(0) + self.eps)
        b = (z_b - z_b.mean(0)) / (z_b.std(0) + self.eps)
        c = a.T @ b / n
        diag = torch.diagonal(c)
        on = (1 - diag).pow(2).sum()
        off = c.pow(2).sum() - diag.pow(2).sum()
        return on + self.lambda_offdiag * off
