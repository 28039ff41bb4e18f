"""BYOL (Grill et al. 2020) on GeoPairs: online network + predictor chases an EMA target network."""

from __future__ import annotations

import torch
from torch import nn

from vgssl_train.losses import NegativeCosineLoss
from vgssl_train.methods.base import Method, pair_views
from vgssl_train.methods.heads import mlp
from vgssl_train.methods.momentum import ema_update, frozen_copy
from vgssl_train.models import DescriptorModel


class BYOL(Method):
    """Symmetric negative cosine between predictions and targets; ``momentum`` None uses no target copy."""

    DATA_DEFAULTS = {"mining": "random", "negatives": 0, "augment_negatives": False}

    def __init__(
        self,
        model: DescriptorModel,
        proj_dim: int = 4096,
        proj_layers: int = 2,
        pred_dim: int = 4096,
        momentum: float | None = 0.99,
    ) -> None:
        super().__init__(model)
        self.projector = mlp(model.dim, proj_dim, proj_dim, proj_layers)
        out_dim = proj_dim if proj_layers else model.dim
        self.predictor = mlp(out_dim, pred_dim, out_dim, 2)
        self.momentum = momentum
        self.target = frozen_copy(nn.Sequential(model, self.projector)) if momentum is not None else None
        self.loss = NegativeCosineLoss()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """GeoPair batch -> 0.5 * (-cos(p_a, t_b) - cos(p_b, t_a)); targets carry no gradient."""
        a, b = pair_views(batch)
        online = nn.Sequential(self.model, self.projector)
        z = online(torch.cat([a, b]))
        p_a, p_b = self.predictor(z).chunk(2)
        if self.target is None:
            t_a, t_b = z.chunk(2)
        else:
            with torch.no_grad():
                ema_update(self.target, online, self.momentum)
                t_a, t_b = self.target(torch.cat([a, b])).chunk(2)
        return 0.5 * (self.loss(p_a, t_b) + self.loss(p_b, t_a))
