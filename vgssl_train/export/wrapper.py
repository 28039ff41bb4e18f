"""The exported graph: uint8 NHWC RGB -> ImageNet-normalised NCHW float -> descriptor model."""

from __future__ import annotations

import torch
from torch import nn

from vgssl_train.models.normalization import IMAGENET_MEAN, IMAGENET_STD


class RgbUint8Model(nn.Module):
    """uint8 RGB [N, H, W, 3] -> descriptors float32 [N, D]; scaling, mean/std and layout in the graph.
    With ``activation``: (descriptors, activation maps float32 [N, h, w]), DescriptorModel.forward_with_activation."""

    def __init__(self, model: nn.Module, activation: bool = False) -> None:
        super().__init__()
        self.model = model
        self.activation = activation
        self.dtype = next(model.parameters()).dtype  # float16 for --fp16: the graph casts after normalising
        # (x / 255 - mean) / std == (x - 255 mean) / (255 std): one subtract and one divide in the graph.
        self.register_buffer("mean", 255.0 * torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", 255.0 * torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x = image.permute(0, 3, 1, 2).float()
        x = ((x - self.mean) / self.std).to(self.dtype)
        if self.activation:
            descriptor, activation = self.model.forward_with_activation(x)
            return descriptor.float(), activation.float()
        return self.model(x).float()
