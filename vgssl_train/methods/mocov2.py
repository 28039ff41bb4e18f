"""MoCo v2 (Chen et al. 2020) on GeoPairs: momentum key encoder and a queue of negative keys."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vgssl_train.distributed import gather
from vgssl_train.losses import InfoNCELoss
from vgssl_train.methods.base import Method, pair_views
from vgssl_train.methods.heads import mlp
from vgssl_train.methods.momentum import ema_update, frozen_copy
from vgssl_train.models import DescriptorModel


class MoCoV2(Method):
    """Queries from the online encoder, keys from its EMA copy; the queue [queue_size, D] holds old keys."""

    DATA_DEFAULTS = {"mining": "random", "negatives": 0, "augment_negatives": False}

    def __init__(
        self,
        model: DescriptorModel,
        proj_dim: int = 0,
        proj_layers: int = 0,
        queue_size: int = 65536,
        momentum: float = 0.999,
        temperature: float = 0.07,
    ) -> None:
        super().__init__(model)
        out_dim = proj_dim if proj_layers else model.dim
        self.projector = mlp(model.dim, proj_dim, proj_dim, proj_layers)
        self.key_encoder = frozen_copy(nn.Sequential(model, self.projector))
        self.momentum = momentum
        self.loss = InfoNCELoss(temperature)
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, out_dim), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """GeoPair batch -> InfoNCE of (query, key) against the queue; then the batch's keys join the queue."""
        a, b = pair_views(batch)
        q = self.projector(self.model(a))
        with torch.no_grad():
            ema_update(self.key_encoder, nn.Sequential(self.model, self.projector), self.momentum)
            k = self.key_encoder(b)
        loss = self.loss(q, k, queue=self.queue.clone().detach())
        self._enqueue(gather(k.detach()))
        return loss

    @torch.no_grad()
    def _enqueue(self, keys: torch.Tensor) -> None:
        n, size = len(keys), len(self.queue)
        idx = (self.queue_ptr + torch.arange(n, device=keys.device)) % size
        self.queue[idx] = F.normalize(keys.to(self.queue.dtype), dim=1)
        self.queue_ptr.fill_(int((self.queue_ptr + n) % size))
