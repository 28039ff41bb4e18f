"""Neighbours within a radius in UTM metres, vectorised through an exact FAISS range search."""
from __future__ import annotations

import faiss
import numpy as np

EVAL_RADIUS_M = 25.0
"""A retrieved place within this distance of the query counts as correct (Recall@N)."""
TRAIN_RADIUS_M = 10.0
"""GeoPair positives: database images within this distance of a training query."""


def neighbours_within(queries_utm: np.ndarray, database_utm: np.ndarray, radius_m: float) -> list[np.ndarray]:
    """For each query [Nq, 2] return the database indices [Nd, 2] within ``radius_m``, sorted by distance."""
    q = np.asarray(queries_utm, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(database_utm, dtype=np.float64).reshape(-1, 2)
    if radius_m <= 0:
        raise ValueError(f"radius must be positive, got {radius_m}")
    if len(d) == 0 or len(q) == 0:
        return [np.zeros(0, dtype=np.int64) for _ in range(len(q))]
    # Centre on the database so float32 keeps centimetres (raw UTM northings are ~1e7 m).
    origin = d.mean(axis=0)
    index = faiss.IndexFlatL2(2)
    index.add(np.ascontiguousarray(d - origin, dtype=np.float32))
    lims, dist2, ids = index.range_search(np.ascontiguousarray(q - origin, dtype=np.float32), float(radius_m) ** 2)
    out = []
    for i in range(len(q)):
        sl = slice(lims[i], lims[i + 1])
        order = np.argsort(dist2[sl], kind="stable")
        out.append(ids[sl][order].astype(np.int64))
    return out
