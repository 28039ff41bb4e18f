"""Backbone registry: name -> builder(layer, weights) returning a module with ``out_channels``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from vgssl_train.models.backbones.efficientnet_lite import build_efficientnet_lite0
from vgssl_train.models.backbones.resnet import build_resnet

BACKBONES: dict[str, Callable[[str, str | None], nn.Module]] = {
    "efficientnet_lite0": build_efficientnet_lite0,
    "resnet18": partial(build_resnet, "resnet18"),
    "resnet50": partial(build_resnet, "resnet50"),
}
LAYERS = ("conv4", "conv5")


def build_backbone(name: str, layer: str = "conv5", weights: str | None = "imagenet") -> nn.Module:
    """Build backbone ``name`` cut at ``layer`` with ``weights`` ('imagenet', a path, or None)."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; valid backbones: {', '.join(BACKBONES)}")
    return BACKBONES[name](layer, weights)
