"""FAISS index types a map can use: a plain dict registry whose keys are `vgssl-map build --index` choices.

Every index uses inner product on L2-normalised descriptors (cosine), the metric of evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

ADD_CHUNK = 65536
TRAIN_SAMPLE = 65536
MIN_IVFPQ_PLACES = 1000


def build_flat(x: np.ndarray) -> tuple[faiss.Index, dict[str, Any]]:
    """Exact search over descriptors [N, D]: 4 D bytes per place."""
    index = faiss.IndexFlatIP(x.shape[1])
    _add_chunked(index, x)
    return index, {}


def build_ivfpq(x: np.ndarray, m: int = 64, nbits: int = 8, nprobe: int = 32) -> tuple[faiss.Index, dict[str, Any]]:
    """Inverted lists over k-means cells, vectors compressed by product quantisation (m bytes per place + id).

    descriptors [N, D] with N >= 1000; nlist = sqrt(N) cells (k-means on <= 64 nlist samples, so a
    1M-place map trains in about a minute on 2 cores); m sub-quantisers (a divisor of D).
    """
    n, d = x.shape
    if n < MIN_IVFPQ_PLACES:
        raise ValueError(
            f"--index ivfpq needs at least {MIN_IVFPQ_PLACES} places to train its quantisers, "
            f"this map has {n}: use --index flat (exact, and fast at this size)"
        )
    m = max(k for k in range(1, min(m, d) + 1) if d % k == 0)
    nlist = int(np.clip(round(np.sqrt(n)), 1, n // 39))
    index = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
    index.do_polysemous_training = False  # slow, and unused by IVF-PQ search
    index.train(_sample(x, max(TRAIN_SAMPLE, 64 * nlist)))
    _add_chunked(index, x)
    index.nprobe = min(nprobe, nlist)
    return index, {"nlist": nlist, "m": m, "nbits": nbits, "nprobe": index.nprobe}


def build_hnsw(
    x: np.ndarray, m: int = 32, ef_construction: int = 64, ef_search: int = 64
) -> tuple[faiss.Index, dict[str, Any]]:
    """HNSW graph over uncompressed descriptors [N, D]: fast approximate search, 4 D + 8 m bytes per place."""
    index = faiss.IndexHNSWFlat(x.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    _add_chunked(index, x)
    index.hnsw.efSearch = ef_search
    return index, {"M": m, "efConstruction": ef_construction, "efSearch": ef_search}


INDEX_TYPES: dict[str, Callable[[np.ndarray], tuple[faiss.Index, dict[str, Any]]]] = {
    "flat": build_flat,
    "ivfpq": build_ivfpq,
    "hnsw": build_hnsw,
}
AUTO = "auto"
AUTO_FLAT_MAX_PLACES = 10_000
"""`--index auto` (the default): exact flat search up to this many places (about 1 ms per 1280-d query on
one core, see BENCHMARKS.md), IVF-PQ above (sub-millisecond, under 128 bytes per place)."""
DEFAULT_INDEX = AUTO
INDEX_CHOICES = (AUTO, *INDEX_TYPES)


def resolve_index_type(name: str, places: int) -> str:
    """``name``, or for 'auto' the index type measured best for ``places`` places."""
    if name == AUTO:
        return "flat" if places <= AUTO_FLAT_MAX_PLACES else "ivfpq"
    if name not in INDEX_TYPES:
        raise ValueError(f"unknown index type {name!r}; valid index types: {', '.join(INDEX_CHOICES)}")
    return name


def build_index(name: str, descriptors: np.ndarray) -> tuple[faiss.Index, str, dict[str, Any]]:
    """Build index type ``name`` (or 'auto') over float32 descriptors [N, D]; returns (index, type, parameters)."""
    x = np.ascontiguousarray(descriptors, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"an index needs descriptors [N, D] with N >= 1, got {x.shape}")
    name = resolve_index_type(name, len(x))
    index, params = INDEX_TYPES[name](x)
    return index, name, params


def _add_chunked(index: faiss.Index, x: np.ndarray) -> None:
    for start in range(0, len(x), ADD_CHUNK):
        index.add(np.ascontiguousarray(x[start : start + ADD_CHUNK]))


def _sample(x: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    if len(x) <= size:
        return np.ascontiguousarray(x)
    pick = np.sort(np.random.default_rng(seed).choice(len(x), size, replace=False))
    return np.ascontiguousarray(x[pick])
