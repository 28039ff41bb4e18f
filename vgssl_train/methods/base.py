"""What every method shares: the descriptor model it trains, GeoPair views, and data defaults."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from vgssl_train.distributed import gather_with_grad
from vgssl_train.methods.heads import mlp
from vgssl_train.models import DescriptorModel


def pair_views(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views [B * (1 + K), 3, H, W]: (query, positive) pairs then (negative view a, view b) pairs."""
    a = torch.cat([batch["query"], batch["negatives_a"].flatten(0, 1)])
    b = torch.cat([batch["positive"], batch["negatives_b"].flatten(0, 1)])
    return a, b


class Method(nn.Module):
    """A training method around a DescriptorModel; ``forward(batch)`` returns the loss.

    ``model`` is the evaluation descriptor (projector, predictor and momentum encoder are not part of it).
    ``DATA_DEFAULTS`` are the method's GeoPair settings when no preset or flag says otherwise.
    """

    DATA_DEFAULTS: ClassVar[dict] = {"mining": "partial", "negatives": 1, "augment_negatives": True}

    NEGATIVE_VIEWS: ClassVar[int] = 2  # views of each negative the encoder sees (pair methods: a and b)

    def __init__(self, model: DescriptorModel) -> None:
        super().__init__()
        self.model = model

    @classmethod
    def views_per_query(cls, negatives: int) -> int:
        """Images the trained encoder sees per GeoPair query with ``negatives`` negatives (the study's budget unit)."""
        return 2 + cls.NEGATIVE_VIEWS * negatives


class ProjectedPairMethod(Method):
    """Descriptor -> projector on both views, embeddings gathered across ranks, a symmetric pair loss."""

    def __init__(self, model: DescriptorModel, loss: nn.Module, proj_dim: int, proj_layers: int) -> None:
        super().__init__(model)
        self.projector = mlp(model.dim, proj_dim, proj_dim, proj_layers)
        self.loss = loss

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """GeoPair batch -> scalar loss over all ranks' pairs."""
        a, b = pair_views(batch)
        z = self.projector(self.model(torch.cat([a, b])))
        z_a, z_b = z.chunk(2)
        return self.loss(gather_with_grad(z_a), gather_with_grad(z_b))
