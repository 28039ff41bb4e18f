"""Triplet margin loss over Euclidean distances, several negatives per anchor (the VPR baseline)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TripletLoss(nn.Module):
    """mean over anchors and negatives of max(0, |a - p| - |a - n| + margin)."""

    def __init__(self, margin: float = 0.1) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """anchor [N, D], positive [N, D], negatives [N, K, D] -> scalar loss."""
        d_pos = (anchor - positive).norm(dim=1, keepdim=True)  # [N, 1]
        d_neg = (anchor.unsqueeze(1) - negatives).norm(dim=2)  # [N, K]
        return F.relu(d_pos - d_neg + self.margin).mean()
