"""Initialisation from data: NetVLAD centroids by k-means on backbone features of sample images."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from vgssl_train.models.aggregators import NetVLAD
from vgssl_train.models.descriptor import DescriptorModel


@torch.no_grad()
def init_aggregator_from_data(
    model: DescriptorModel,
    images: Dataset,
    max_images: int = 500,
    descriptors_per_image: int = 100,
    device: str = "cpu",
    seed: int = 0,
) -> None:
    """If the aggregator learns from data (NetVLAD), fit it on ``images`` (items (tensor [3, H, W], i))."""
    if not isinstance(model.aggregator, NetVLAD):
        return
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(images), size=min(max_images, len(images)), replace=False)
    loader = DataLoader(torch.utils.data.Subset(images, pick.tolist()), batch_size=32)
    model.eval().to(device)
    feats = []
    for x, _ in loader:
        f = model.features(x.to(device)).flatten(2).transpose(1, 2).cpu().numpy()  # [B, hw, C]
        for fi in f:
            take = rng.choice(len(fi), size=min(descriptors_per_image, len(fi)), replace=False)
            feats.append(fi[take])
    model.aggregator.init_from_features(np.concatenate(feats), seed=seed)
