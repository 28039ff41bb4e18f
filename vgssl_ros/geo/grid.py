"""All pairs of 2-D points closer than a radius, through a uniform grid of radius-sized cells.

Each query point is compared only with the database points of its own and the 8 surrounding cells,
so the work grows with the number of close pairs, not with queries x database (an exact FAISS range
search over 100,000 places compares 10^10 pairs). Queries are processed in chunks to bound memory.
"""

from __future__ import annotations

import numpy as np

CHUNK_PAIRS = 4_000_000
"""Candidate pairs examined at once."""


def pairs_within(queries: np.ndarray, database: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs closer than ``radius`` (strictly) between queries [Nq, 2] and database [Nd, 2] points:
    (query index [P], database index [P], distance [P]), sorted by query, then distance, then database index."""
    q = np.asarray(queries, dtype=np.float64).reshape(-1, 2)
    d = np.asarray(database, dtype=np.float64).reshape(-1, 2)
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}")
    empty = np.zeros(0, np.int64)
    if len(q) == 0 or len(d) == 0:
        return empty, empty, np.zeros(0)
    origin = np.minimum(q.min(axis=0), d.min(axis=0))
    qc = np.floor((q - origin) / radius).astype(np.int64)
    dc = np.floor((d - origin) / radius).astype(np.int64)
    height = int(max(qc[:, 1].max(), dc[:, 1].max())) + 3  # keys stay unique with a one-cell margin
    dkey = (dc[:, 0] + 1) * height + dc[:, 1] + 1
    order = np.argsort(dkey, kind="stable")
    sorted_keys = dkey[order]
    # Database range [lo, hi) in ``order`` of each query's 9 cells: [Nq, 9].
    shifts = np.array([dx * height + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)], np.int64)
    qkey = ((qc[:, 0] + 1) * height + qc[:, 1] + 1)[:, None] + shifts[None, :]
    lo = np.searchsorted(sorted_keys, qkey, side="left")
    counts = np.searchsorted(sorted_keys, qkey, side="right") - lo
    done = np.concatenate([[0], np.cumsum(counts.sum(axis=1))])  # candidates before each query
    out_q, out_d, out_dist = [], [], []
    start = 0
    while start < len(q):
        # Grow the chunk until it holds CHUNK_PAIRS candidates (at least one query).
        stop = max(start + 1, int(np.searchsorted(done, done[start] + CHUNK_PAIRS, side="right")) - 1)
        c, low = counts[start:stop].ravel(), lo[start:stop].ravel()
        owner = np.repeat(np.repeat(np.arange(start, stop), 9), c)
        offsets = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
        cand = order[np.repeat(low, c) + offsets]
        dist = np.linalg.norm(d[cand] - q[owner], axis=1)
        keep = dist < radius
        out_q.append(owner[keep])
        out_d.append(cand[keep])
        out_dist.append(dist[keep])
        start = stop
    qi, di, dist = np.concatenate(out_q), np.concatenate(out_d), np.concatenate(out_dist)
    sort = np.lexsort((di, dist, qi))
    return qi[sort], di[sort], dist[sort]
