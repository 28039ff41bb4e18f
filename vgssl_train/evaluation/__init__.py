"""Evaluation: embedding with a progress bar and Recall@N on a GeoSplit."""

from vgssl_train.evaluation.embed import embed_paths
from vgssl_train.evaluation.retrieval import evaluate_split
from vgssl_train.evaluation.search import search

__all__ = ["embed_paths", "evaluate_split", "search"]
