"""Aggregator registry: name -> class(in_channels) with ``out_dim`` and ``activation(x)`` [N, C, h, w] -> [N, h, w]."""

from __future__ import annotations

from torch import nn

from vgssl_train.models.aggregators.gem import GeM
from vgssl_train.models.aggregators.netvlad import NetVLAD

AGGREGATORS: dict[str, type[nn.Module]] = {"gem": GeM, "netvlad": NetVLAD}


def build_aggregator(name: str, in_channels: int) -> nn.Module:
    """Build aggregator ``name`` over ``in_channels`` feature maps."""
    if name not in AGGREGATORS:
        raise ValueError(f"unknown aggregation {name!r}; valid aggregations: {', '.join(AGGREGATORS)}")
    return AGGREGATORS[name](in_channels)
