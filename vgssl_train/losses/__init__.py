"""Losses, one per file; ``LOSSES`` maps a name to its class (defaults are the papers' values)."""

from __future__ import annotations

from torch import nn

from vgssl_train.losses.barlow_twins import BarlowTwinsLoss
from vgssl_train.losses.info_nce import InfoNCELoss
from vgssl_train.losses.negative_cosine import NegativeCosineLoss
from vgssl_train.losses.triplet import TripletLoss
from vgssl_train.losses.vicreg import VICRegLoss

LOSSES: dict[str, type[nn.Module]] = {
    "info_nce": InfoNCELoss,
    "negative_cosine": NegativeCosineLoss,
    "barlow_twins": BarlowTwinsLoss,
    "vicreg": VICRegLoss,
    "triplet": TripletLoss,
}


def build_loss(name: str, **kwargs: float) -> nn.Module:
    """Loss ``name`` with keyword overrides of its defaults."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid losses: {', '.join(LOSSES)}")
    return LOSSES[name](**kwargs)


__all__ = ["LOSSES", "BarlowTwinsLoss", "InfoNCELoss", "NegativeCosineLoss", "TripletLoss", "VICRegLoss", "build_loss"]
