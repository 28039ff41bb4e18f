"""GeoPair training samples as tensors: query, positive, and two augmented views of each negative."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from vgssl_ros.datasets import load_rgb
from vgssl_train.data.augment import augment_view
from vgssl_train.data.image_dataset import image_transform
from vgssl_train.data.splits import GeoSplit
from vgssl_train.mining import Pairs


class PairDataset(Dataset):
    """Item i: {"query", "positive": [3, H, W], "negatives_a", "negatives_b": [K, 3, H, W]}.

    With ``augment_negatives`` the two negative tensors are two augmented views of the same images
    (an extra positive pair); without, both are the plain images. Augmentations are drawn from
    (seed, epoch, i), so a resumed run sees the same views.
    """

    def __init__(
        self,
        split: GeoSplit,
        pairs: Pairs,
        height: int,
        width: int,
        augment_negatives: bool,
        seed: int = 0,
        epoch: int = 0,
    ) -> None:
        self.split, self.pairs = split, pairs
        self.transform = image_transform(height, width)
        self.augment_negatives = augment_negatives
        self.seed, self.epoch = seed, epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def _db(self, i: int) -> torch.Tensor:
        return self.transform(load_rgb(self.split.database.paths[i]))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        query = self.transform(load_rgb(self.split.queries.paths[self.pairs.queries[i]]))
        positive = self._db(int(self.pairs.positives[i]))
        negatives = [self._db(int(n)) for n in self.pairs.negatives[i]]
        neg = torch.stack(negatives) if negatives else query.new_zeros((0, *query.shape))
        if self.augment_negatives and len(negatives):
            g = torch.Generator().manual_seed(hash((self.seed, self.epoch, i)) & 0x7FFFFFFF)
            neg_a = torch.stack([augment_view(n, g) for n in neg])
            neg_b = torch.stack([augment_view(n, g) for n in neg])
        else:
            neg_a = neg_b = neg
        return {"query": query, "positive": positive, "negatives_a": neg_a, "negatives_b": neg_b}
