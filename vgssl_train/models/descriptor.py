"""DescriptorModel: backbone -> aggregator -> optional FC -> L2 norm, the model that gets exported."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vgssl_train.models.aggregators import build_aggregator
from vgssl_train.models.backbones import build_backbone


@dataclass(frozen=True)
class ModelSpec:
    """What a descriptor model is made of; stored in checkpoints and in ONNX metadata."""

    backbone: str = "efficientnet_lite0"
    layer: str = "conv5"
    aggregation: str = "gem"
    fc_dim: int = 0

    def to_dict(self) -> dict:
        """A JSON-friendly dict of the fields."""
        return asdict(self)


class DescriptorModel(nn.Module):
    """Normalised images [N, 3, H, W] -> L2-normalised descriptors [N, D]."""

    def __init__(self, spec: ModelSpec, weights: str | None = "imagenet") -> None:
        super().__init__()
        self.spec = spec
        self.backbone = build_backbone(spec.backbone, spec.layer, weights)
        self.aggregator = build_aggregator(spec.aggregation, self.backbone.out_channels)
        self.fc = nn.Linear(self.aggregator.out_dim, spec.fc_dim) if spec.fc_dim > 0 else nn.Identity()
        self.dim = spec.fc_dim if spec.fc_dim > 0 else self.aggregator.out_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone feature maps [N, C, h, w]."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.fc(self.aggregator(self.backbone(x))), p=2, dim=1)

    def forward_with_activation(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Descriptors [N, D] and activation maps float32 [N, h, w] (what the aggregation weighs at each location
        of the feature map, each image's maximum scaled to 1) from one backbone pass."""
        features = self.backbone(x)
        descriptor = F.normalize(self.fc(self.aggregator(features)), p=2, dim=1)
        activation = self.aggregator.activation(features).float()
        return descriptor, activation / activation.amax(dim=(1, 2), keepdim=True).clamp(
            min=torch.finfo(torch.float32).tiny
        )
