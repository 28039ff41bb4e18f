"""ResNet-18/50 from torchvision, cut at conv4 (layer3) or conv5 (layer4) as in the VG-SSL paper."""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn

OUT_CHANNELS = {"resnet18": {"conv4": 256, "conv5": 512}, "resnet50": {"conv4": 1024, "conv5": 2048}}
WEIGHT_FILES = {"resnet18": "resnet18-f37072fd.pth", "resnet50": "resnet50-11ad3fa6.pth"}


def _torch_cache_weights(name: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHT_FILES[name]


def build_resnet(name: str, layer: str, weights: str | None) -> nn.Module:
    """ResNet feature extractor [N, 3, H, W] -> [N, C, H/s, W/s].

    ``weights``: 'imagenet' (torchvision weights from the local torch cache; never downloaded),
    a path to a torchvision state dict, or None for random initialisation.
    """
    if layer not in ("conv4", "conv5"):
        raise ValueError(f"{name} layer must be conv4 or conv5, got {layer!r}")
    net = getattr(torchvision.models, name)(weights=None)
    if weights is not None:
        path = _torch_cache_weights(name) if weights == "imagenet" else Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"ImageNet weights for {name} not found at {path}. Nothing is downloaded at run time: "
                f"copy torchvision's {WEIGHT_FILES[name]} there (or pass --weights PATH), "
                f"or pass --weights none for random initialisation"
            )
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    layers = [net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3]
    if layer == "conv5":
        layers.append(net.layer4)
    body = nn.Sequential(*layers)
    body.out_channels = OUT_CHANNELS[name][layer]
    return body
