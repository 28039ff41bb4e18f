"""Evaluation: embedding (and activation maps) with a progress bar and Recall@N on a GeoSplit."""

from vgssl_train.evaluation.embed import activation_paths, embed_paths
from vgssl_train.evaluation.retrieval import evaluate_split
from vgssl_train.evaluation.search import search

__all__ = ["activation_paths", "embed_paths", "evaluate_split", "search"]
