"""VICReg (Bardes et al. 2022): invariance + variance + covariance regularisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class VICRegLoss(nn.Module):
    """sim * MSE(z_a, z_b) + std * hinge(1 - std per dim) + cov * off-diagonal covariance^2 / D."""

    def __init__(
        self, sim_weight: float = 25.0, std_weight: float = 25.0, cov_weight: float = 1.0, eps: float = 1e-4
    ) -> None:
        super().__init__()
        self.sim_weight, self.std_weight, self.cov_weight, self.eps = sim_weight, std_weight, cov_weight, eps

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
        """z_a, z_b [N, D] with N >= 2 -> scalar loss."""
        if len(z_a) < 2:
            raise ValueError("VICReg needs at least 2 samples per batch for its variance term")
        invariance = F.mse_loss(z_a, z_b)
        variance = self._variance(z_a) + self._variance(z_b)
        covariance = self._covariance(z_a) + self._covariance(z_b)
        return self.sim_weight * invariance + self.std_weight * variance + self.cov_weight * covariance

    def _variance(self, z: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - torch.sqrt(z.var(dim=0) + self.eps)).mean() / 2

    @staticmethod
    def _covariance(z: torch.Tensor) -> torch.Tensor:
        n, d = z.shape
        z = z - z.mean(dim=0)
        cov = z.T @ z / (n - 1)
        return (cov.pow(2).sum() - torch.diagonal(cov).pow(2).sum()) / d
