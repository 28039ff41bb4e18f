"""Losses, one per file: typed modules on embedding tensors whose defaults are the papers' values."""

from vgssl_train.losses.barlow_twins import BarlowTwinsLoss
from vgssl_train.losses.info_nce import InfoNCELoss
from vgssl_train.losses.negative_cosine import NegativeCosineLoss
from vgssl_train.losses.triplet import TripletLoss
from vgssl_train.losses.vicreg import VICRegLoss

__all__ = ["BarlowTwinsLoss", "InfoNCELoss", "NegativeCosineLoss", "TripletLoss", "VICRegLoss"]
