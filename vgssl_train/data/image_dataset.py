"""A torch Dataset over image paths: decode, resize, normalise with ImageNet statistics."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from vgssl_ros.datasets import load_rgb, resize_rgb
from vgssl_train.models.normalization import IMAGENET_MEAN, IMAGENET_STD


def image_transform(height: int, width: int) -> Callable[[np.ndarray], torch.Tensor]:
    """uint8 RGB [H0, W0, 3] -> float [3, height, width], resized (area/linear) and normalised."""
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)

    def transform(rgb: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(resize_rgb(rgb, height, width))).permute(2, 0, 1).float().div_(255.0)
        return (x - mean) / std

    return transform


class ImageDataset(Dataset):
    """Images at ``paths`` as normalised tensors [3, H, W]; item i is (tensor, i)."""

    def __init__(self, paths: Sequence[str], height: int, width: int) -> None:
        self.paths = list(paths)
        self.transform = image_transform(height, width)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(load_rgb(self.paths[i])), i
