"""Recall@N of a model on a GeoSplit (exact FAISS retrieval)."""

from __future__ import annotations

from torch import nn

from vgssl_ros.geo import EVAL_RADIUS_M
from vgssl_ros.metrics import RECALL_NS, recall_at_n
from vgssl_train.data import GeoSplit
from vgssl_train.evaluation.embed import embed_paths
from vgssl_train.evaluation.search import search


def evaluate_split(
    model: nn.Module,
    split: GeoSplit,
    height: int,
    width: int,
    batch_size: int = 64,
    workers: int = 0,
    device: str = "cpu",
    progress: bool = True,
    ns: tuple[int, ...] = RECALL_NS,
) -> dict:
    """Recall@N (percent, positives within 25 m) of ``model`` on ``split``, with the ranked predictions."""
    db = embed_paths(model, split.database.paths, height, width, batch_size, workers, device, "database", progress)
    q = embed_paths(model, split.queries.paths, height, width, batch_size, workers, device, "queries", progress)
    _, predictions = search(q, db, max(ns))
    recall = recall_at_n(predictions, split.positives(EVAL_RADIUS_M), ns)
    return {
        "recall": {str(n): r for n, r in recall.items()},
        "queries": len(split.queries),
        "database": len(split.database),
        "predictions": predictions,
    }
