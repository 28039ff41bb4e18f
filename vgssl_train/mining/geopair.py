"""GeoPair (VG-SSL): pair each query with the database image within 10 m nearest in feature space;
hard negatives are the nearest database images in feature space farther than 25 m.

Modes: ``random`` (random positive within 10 m, random far negatives, no features needed),
``partial`` (features of a random sample of the database and of the positives that must be chosen among,
i.e. of queries with several; negatives from those),
``full`` (features of the whole database).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgssl_train.evaluation.search import search

MINING_MODES = ("random", "partial", "full")


@dataclass
class Pairs:
    """One epoch of GeoPair training samples: query, its positive and its negatives (database indices)."""

    queries: np.ndarray  # [P] query indices
    positives: np.ndarray  # [P] database indices
    negatives: np.ndarray  # [P, K] database indices (K may be 0)

    def __len__(self) -> int:
        return len(self.queries)


def _check_mode(mode: str) -> None:
    if mode not in MINING_MODES:
        raise ValueError(f"unknown mining mode {mode!r}; valid modes: {', '.join(MINING_MODES)}")


def trainable_queries(positives: Sequence[np.ndarray]) -> np.ndarray:
    """Indices of the queries with at least one positive (a GeoPair needs one)."""
    return np.array([q for q, p in enumerate(positives) if len(p)], dtype=np.int64)


def database_to_embed(
    mode: str, positives: Sequence[np.ndarray], num_database: int, sample_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Sorted database indices whose features ``mine_pairs`` needs: none, a sample + the positives of
    queries with more than one (a lone positive needs no feature to be chosen), or all."""
    _check_mode(mode)
    if mode == "random":
        return np.zeros(0, np.int64)
    if mode == "full" or sample_size >= num_database:
        return np.arange(num_database, dtype=np.int64)
    sample = rng.choice(num_database, size=sample_size, replace=False)
    ambiguous = [p for p in positives if len(p) > 1]
    return np.union1d(sample, np.concatenate([np.zeros(0, np.int64), *ambiguous])).astype(np.int64)


def mine_pairs(
    mode: str,
    positives: Sequence[np.ndarray],
    excluded: Sequence[np.ndarray],
    num_database: int,
    num_negatives: int,
    rng: np.random.Generator,
    query_features: np.ndarray | None = None,
    db_ids: np.ndarray | None = None,
    db_features: np.ndarray | None = None,
) -> Pairs:
    """GeoPairs for every query that has a positive.

    positives[q]: database indices within 10 m; excluded[q]: those within 25 m (never negatives).
    query_features [Nq, D] and db_features [M, D] (rows of database indices ``db_ids`` [M], as
    ``database_to_embed`` chose) are L2-normalised; ``random`` mode needs neither.
    """
    _check_mode(mode)
    queries = trainable_queries(positives)
    if len(queries) == 0:
        raise ValueError("no query has a database image within the training radius, so there is no GeoPair")
    if mode == "random":
        pos = np.array([rng.choice(positives[q]) for q in queries], dtype=np.int64)
        neg = np.stack([_random_far(num_database, excluded[q], num_negatives, rng) for q in queries])
        return Pairs(queries, pos, neg.reshape(len(queries), num_negatives))
    if query_features is None or db_features is None or db_ids is None:
        raise ValueError(f"mining mode {mode!r} needs query and database features")
    row_of = np.full(num_database, -1, np.int64)
    row_of[db_ids] = np.arange(len(db_ids))
    pos = np.empty(len(queries), np.int64)
    for i, q in enumerate(queries):
        if len(positives[q]) == 1:
            pos[i] = positives[q][0]
            continue
        rows = row_of[positives[q]]
        if (rows < 0).any():
            raise ValueError(f"database features are missing for the positives of query {q}")
        pos[i] = positives[q][np.argmax(db_features[rows] @ query_features[q])]
    neg = hard_negatives(query_features[queries], db_ids, db_features, [excluded[q] for q in queries], num_negatives)
    return Pairs(queries, pos, neg)


def hard_negatives(
    query_features: np.ndarray, db_ids: np.ndarray, db_features: np.ndarray, excluded: Sequence[np.ndarray], k: int
) -> np.ndarray:
    """[P, k] database indices nearest to each query [P, D] in feature space, skipping ``excluded[i]``."""
    if k == 0:
        return np.zeros((len(query_features), 0), np.int64)
    depth = min(len(db_ids), k + max((len(e) for e in excluded), default=0))
    _, rows = search(query_features, db_features, depth)
    out = np.empty((len(query_features), k), np.int64)
    for i, (ranked, skip) in enumerate(zip(db_ids[rows], excluded)):
        far = ranked[~np.isin(ranked, skip)][:k]
        if len(far) < k:
            raise ValueError(
                f"only {len(far)} database images lie outside 25 m of a query; "
                f"ask for fewer negatives (--negatives) or a larger mining sample"
            )
        out[i] = far
    return out


def _random_far(num_database: int, skip: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    far = np.setdiff1d(np.arange(num_database), skip)
    if len(far) < k:
        raise ValueError(f"only {len(far)} database images lie outside 25 m of a query; ask for fewer negatives")
    return rng.choice(far, size=k, replace=False).astype(np.int64)
