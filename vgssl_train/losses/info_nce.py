"""InfoNCE: SimCLR's NT-Xent with in-batch negatives, or MoCo's with a queue of negative keys."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InfoNCELoss(nn.Module):
    """Contrastive cross-entropy over cosine similarities / temperature (Oord 2018; Chen 2020; He 2020).

    Without ``queue``: symmetric NT-Xent, each of the 2N views has its pair as positive and the other
    2N-2 views as negatives. With ``queue`` [M, D]: z_a are queries, z_b their keys, the queue the negatives.
    """

    def __init__(self, temperature: float = 0.07) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor, queue: torch.Tensor | None = None) -> torch.Tensor:
        """z_a, z_b [N, D] (row i of each is a positive pair) -> scalar loss."""
        z_a, z_b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
        if queue is not None:
            positive = (z_a * z_b).sum(dim=1, keepdim=True)
            logits = torch.cat([positive, z_a @ F.normalize(queue, dim=1).T], dim=1) / self.temperature
            return F.cross_entropy(logits, torch.zeros(len(z_a), dtype=torch.long, device=z_a.device))
        n = len(z_a)
        z = torch.cat([z_a, z_b])
        logits = (z @ z.T) / self.temperature
        logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
        targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
        return F.cross_entropy(logits, targets)
