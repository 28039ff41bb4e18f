"""The VPR baseline: triplet margin loss on descriptors with hard negatives (NetVLAD-style HNM)."""

from __future__ import annotations

import torch

from vgssl_train.losses import TripletLoss
from vgssl_train.methods.base import Method
from vgssl_train.models import DescriptorModel


class Triplet(Method):
    """Descriptors of query, positive and its K mined negatives; no projector."""

    DATA_DEFAULTS = {"mining": "full", "negatives": 2, "augment_negatives": False}
    NEGATIVE_VIEWS = 1

    def __init__(self, model: DescriptorModel, margin: float = 0.1) -> None:
        super().__init__(model)
        self.loss = TripletLoss(margin)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """GeoPair batch (K >= 1 negatives) -> triplet loss."""
        negatives = batch["negatives_a"]
        if negatives.shape[1] == 0:
            raise ValueError("the triplet method needs at least one negative per query (--negatives >= 1)")
        b, k = negatives.shape[:2]
        d = self.model(torch.cat([batch["query"], batch["positive"], negatives.flatten(0, 1)]))
        return self.loss(d[:b], d[b : 2 * b], d[2 * b :].view(b, k, -1))
