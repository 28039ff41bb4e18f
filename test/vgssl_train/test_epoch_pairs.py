"""Each epoch's GeoPairs: positives within 10 m of a query, negatives never within 25 m."""

from __future__ import annotations

import numpy as np
import torch

from test.conftest import ORIGIN, ZONE
from vgssl_ros.datasets import GeoImages
from vgssl_train.data import GeoSplit
from vgssl_train.training.epoch_pairs import mine_epoch

# Database images north of the one query, at these distances (m): within 10 m, 10-25 m, beyond 25 m.
DISTANCES = np.array([0.0, 5.0, 9.9, 10.5, 15.0, 24.9, 25.5, 30.0, 60.0, 100.0, 200.0])
NEAR, FAR = {0, 1, 2}, {6, 7, 8, 9, 10}


def _split() -> GeoSplit:
    db = GeoImages(
        [f"db{i}.png" for i in range(len(DISTANCES))], ORIGIN + np.c_[np.zeros(len(DISTANCES)), DISTANCES], ZONE
    )
    q = GeoImages(["q0.png"], ORIGIN[None], ZONE)
    return GeoSplit(db, q, np.zeros(len(db), np.int64), np.zeros(1, np.int64), "synthetic")


def test_random_mining_uses_10_m_positives_and_excludes_25_m_from_negatives():
    split, positives, negatives = _split(), set(), set()
    for epoch in range(40):
        pairs = mine_epoch(
            torch.nn.Identity(),
            split,
            epoch,
            mode="random",
            negatives=len(FAR),
            sample_size=4,
            seed=3,
            height=8,
            width=8,
            progress=False,
        )
        assert pairs.queries.tolist() == [0]
        positives.add(int(pairs.positives[0]))
        negatives |= set(pairs.negatives[0].tolist())
    assert positives == NEAR  # every image within 10 m is used across epochs, none beyond
    assert negatives == FAR  # all those beyond 25 m (25.5 m included), none within
