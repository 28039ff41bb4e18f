"""Projector and predictor heads: MLPs with batch norm between layers (SimCLR/BYOL style)."""

from __future__ import annotations

from torch import nn


def mlp(in_dim: int, hidden_dim: int, out_dim: int, layers: int) -> nn.Module:
    """``layers`` Linear layers [N, in_dim] -> [N, out_dim], BN + ReLU between them; 0 layers = identity."""
    if layers < 0:
        raise ValueError(f"a head needs 0 or more layers, got {layers}")
    if layers == 0:
        return nn.Identity()
    mods: list[nn.Module] = []
    dim = in_dim
    for _ in range(layers - 1):
        mods += [nn.Linear(dim, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim), nn.ReLU(inplace=True)]
        dim = hidden_dim
    mods.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*mods)
