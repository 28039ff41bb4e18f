"""Each epoch's GeoPairs: embed what the mining mode needs with the current model, then mine."""

from __future__ import annotations

import numpy as np
from torch import nn

from vgssl_ros.datasets import DatasetError
from vgssl_ros.geo import EVAL_RADIUS_M, TRAIN_RADIUS_M
from vgssl_train.data import GeoSplit
from vgssl_train.evaluation import embed_paths
from vgssl_train.mining import Pairs, database_to_embed, mine_pairs, trainable_queries


def check_trainable(split: GeoSplit) -> int:
    """Number of training queries with a database image within 10 m; raise before training if none."""
    n = len(trainable_queries(split.positives(TRAIN_RADIUS_M)))
    if n == 0:
        raise DatasetError(
            f"{split.name}: no query has a database image within {TRAIN_RADIUS_M:g} m, so GeoPair "
            f"has no positive pair; check the positions (UTM metres) or use another dataset"
        )
    return n


def mine_epoch(
    model: nn.Module,
    split: GeoSplit,
    epoch: int,
    *,
    mode: str,
    negatives: int,
    sample_size: int,
    seed: int,
    height: int,
    width: int,
    batch_size: int = 64,
    device: str = "cpu",
    progress: bool = True,
) -> Pairs:
    """GeoPairs of ``split`` for ``epoch``; deterministic given the model weights, seed and epoch.

    ``negatives`` hard negatives per query; ``sample_size`` database images embedded for ``partial`` mining;
    images embedded at ``height`` x ``width``, ``batch_size`` at a time.
    """
    rng = np.random.default_rng([seed, epoch])
    positives = split.positives(TRAIN_RADIUS_M)
    excluded = split.positives(EVAL_RADIUS_M)
    db_ids = database_to_embed(mode, positives, len(split.database), sample_size, rng)
    q_feats = db_feats = None
    if mode != "random":
        q_feats = embed_paths(
            model,
            split.queries.paths,
            height,
            width,
            batch_size,
            device=device,
            desc="mining queries",
            progress=progress,
        )
        db_feats = embed_paths(
            model,
            [split.database.paths[i] for i in db_ids],
            height,
            width,
            batch_size,
            device=device,
            desc="mining database",
            progress=progress,
        )
    return mine_pairs(mode, positives, excluded, len(split.database), negatives, rng, q_feats, db_ids, db_feats)
