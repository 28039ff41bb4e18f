"""Barlow Twins (Zbontar et al. 2021) on GeoPairs."""

from __future__ import annotations

from vgssl_train.losses import BarlowTwinsLoss
from vgssl_train.methods.base import ProjectedPairMethod
from vgssl_train.models import DescriptorModel


class BarlowTwins(ProjectedPairMethod):
    """Projector + cross-correlation loss with off-diagonal weight ``lambda_offdiag``."""

    def __init__(
        self, model: DescriptorModel, proj_dim: int = 2048, proj_layers: int = 2, lambda_offdiag: float = 0.0051
    ) -> None:
        super().__init__(model, BarlowTwinsLoss(lambda_offdiag), proj_dim, proj_layers)
