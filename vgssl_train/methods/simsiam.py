"""SimSiam (Chen & He 2021) on GeoPairs: BYOL without the momentum target, stop-gradient only."""

from __future__ import annotations

from vgssl_train.methods.byol import BYOL
from vgssl_train.models import DescriptorModel


class SimSiam(BYOL):
    """Projector + predictor; the other view's projection, detached, is the target."""

    def __init__(
        self, model: DescriptorModel, proj_dim: int = 4096, proj_layers: int = 2, pred_dim: int = 4096
    ) -> None:
        super().__init__(model, proj_dim, proj_layers, pred_dim, momentum=None)
