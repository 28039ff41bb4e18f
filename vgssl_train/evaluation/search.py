"""Exact FAISS inner-product search: the one nearest-neighbour search of training, mining and evaluation."""

from __future__ import annotations

import faiss
import numpy as np


def search(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search (cosine on L2-normalised rows): (similarities [Nq, k], indices [Nq, k])."""
    index = faiss.IndexFlatIP(database.shape[1])
    index.add(np.ascontiguousarray(database, dtype=np.float32))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, database.shape[0]))
