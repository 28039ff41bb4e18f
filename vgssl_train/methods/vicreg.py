"""VICReg (Bardes et al. 2022) on GeoPairs."""

from __future__ import annotations

from vgssl_train.losses import VICRegLoss
from vgssl_train.methods.base import ProjectedPairMethod
from vgssl_train.models import DescriptorModel


class VICReg(ProjectedPairMethod):
    """Projector + invariance/variance/covariance loss with the paper's weights 25 / 25 / 1."""

    def __init__(
        self,
        model: DescriptorModel,
        proj_dim: int = 4096,
        proj_layers: int = 2,
        sim_weight: float = 25.0,
        std_weight: float = 25.0,
        cov_weight: float = 1.0,
    ) -> None:
        super().__init__(model, VICRegLoss(sim_weight, std_weight, cov_weight), proj_dim, proj_layers)
