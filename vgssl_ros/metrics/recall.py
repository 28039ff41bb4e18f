"""Recall@N: the one implementation used by `vgssl-train eval`, the study and `vgssl-eval`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RECALL_NS = (1, 5, 10, 20)


def recall_at_n(
    predictions: np.ndarray, positives: Sequence[np.ndarray], ns: Sequence[int] = RECALL_NS
) -> dict[int, float]:
    """Percent of queries with a positive among their first N predictions.

    predictions: [Nq, K] database indices ranked best first (K >= max(ns) not required).
    positives: Nq arrays of database indices that count as correct.
    """
    predictions = np.asarray(predictions)
    if predictions.ndim != 2 or predictions.shape[0] != len(positives):
        raise ValueError(f"predictions {predictions.shape} do not match {len(positives)} queries")
    if len(positives) == 0:
        raise ValueError("recall_at_n needs at least one query")
    hit_rank = np.full(len(positives), np.inf)
    for i, pos in enumerate(positives):
        hits = np.nonzero(np.isin(predictions[i], pos))[0]
        if hits.size:
            hit_rank[i] = hits[0]
    return {int(n): float(100.0 * np.mean(hit_rank < n)) for n in ns}
