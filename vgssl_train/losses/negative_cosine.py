"""Negative cosine similarity with a stop-gradient on the target (BYOL, SimSiam)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NegativeCosineLoss(nn.Module):
    """-cos(p, stopgrad(z)) averaged over the batch; BYOL's 2 - 2cos equals 2 + 2 * this."""

    def forward(self, p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Predictions p [N, D], targets z [N, D] -> scalar in [-1, 1]."""
        return -F.cosine_similarity(p, z.detach(), dim=1).mean()
