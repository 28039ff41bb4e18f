"""Neighbours within a radius in UTM metres (exact, through a grid of radius-sized cells)."""

from __future__ import annotations

import numpy as np

from vgssl_ros.geo.grid import pairs_within

EVAL_RADIUS_M = 25.0
"""A retrieved place within this distance of the query counts as correct (Recall@N)."""
TRAIN_RADIUS_M = 10.0
"""GeoPair positives: database images within this distance of a training query."""


def neighbours_within(queries_utm: np.ndarray, database_utm: np.ndarray, radius_m: float) -> list[np.ndarray]:
    """For each query [Nq, 2] return the database indices [Nd, 2] within ``radius_m``, sorted by distance."""
    q = np.asarray(queries_utm, dtype=np.float64).reshape(-1, 2)
    qi, di, _ = pairs_within(q, database_utm, radius_m)
    if len(q) == 0:
        return []
    return np.split(di, np.searchsorted(qi, np.arange(1, len(q))))
