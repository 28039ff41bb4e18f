"""SimCLR (Chen et al. 2020) on GeoPairs: InfoNCE with in-batch negatives."""

from __future__ import annotations

from vgssl_train.losses import InfoNCELoss
from vgssl_train.methods.base import ProjectedPairMethod
from vgssl_train.models import DescriptorModel


class SimCLR(ProjectedPairMethod):
    """Projector (``proj_layers`` Linear layers of ``proj_dim``) + NT-Xent at ``temperature``."""

    def __init__(
        self, model: DescriptorModel, proj_dim: int = 1024, proj_layers: int = 1, temperature: float = 0.07
    ) -> None:
        super().__init__(model, InfoNCELoss(temperature), proj_dim, proj_layers)
