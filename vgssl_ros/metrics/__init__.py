"""Retrieval metrics shared by the trainer and the runtime evaluation."""

from vgssl_ros.metrics.recall import RECALL_NS, recall_at_n

__all__ = ["RECALL_NS", "recall_at_n"]
