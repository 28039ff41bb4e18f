"""Benchmark: FAISS index types on real Nordland64 descriptors and on N synthetic ones (default 1,000,000).

Run: .venv/bin/python benchmarks/faiss_indexes.py [--n 1000000] [--hnsw-n 100000] [--queries 1000]
Per index type: build seconds, single-query latency (median, one thread, as in the node), bytes per place
(serialised index / places), top-1 agreement with exact search. Target for a compressed index:
<= 2 ms per query, <= 128 bytes per place, >= 99 % top-1 agreement.

Synthetic descriptors follow the real ones: a Gaussian with the mean and top-256 principal components
of the real Nordland database descriptors plus isotropic residual, L2-normalised; queries are database
descriptors perturbed to cosine ~0.97 with their source (a revisit). HNSW is built on the first
--hnsw-n places only (its 1M build takes too long on 2 cores); its row says so.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from harness import NORDLAND, exported_model

from vgssl_ros.core import Embedder
from vgssl_ros.datasets import load_rgb, read_vpr_folder
from vgssl_ros.mapping import INDEX_TYPES, build_index


def real_descriptors(model: Path) -> tuple[np.ndarray, np.ndarray]:
    """Nordland64 summer database (all splits) [Nd, D] and winter test queries [Nq, D]."""
    embedder = Embedder(model, ["cpu"], intra_op_threads=2)
    db = [p for s in ("train", "val", "test") for p in read_vpr_folder(NORDLAND / "images" / s / "database").paths]
    queries = read_vpr_folder(NORDLAND / "images" / "test" / "queries").paths
    return (embedder.embed([load_rgb(p) for p in db], 64), embedder.embed([load_rgb(p) for p in queries], 64))


def synthetic(real: np.ndarray, n: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n database and ``queries`` query descriptors shaped like ``real`` [M, D] (see the module doc)."""
    rng = np.random.default_rng(seed)
    mean = real.mean(axis=0)
    _, s, vt = np.linalg.svd(real - mean, full_matrices=False)
    k = min(256, len(s))
    scale = (s[:k] / np.sqrt(len(real))).astype(np.float32)
    residual = float(np.sqrt((s[k:] ** 2).sum() / len(real) / real.shape[1])) if len(s) > k else 0.0
    basis = vt[:k].astype(np.float32)
    db = np.empty((n, real.shape[1]), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        x = mean + (rng.standard_normal((m, k), np.float32) * scale) @ basis
        x += residual * rng.standard_normal(x.shape, np.float32)
        db[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    src = rng.choice(n, queries, replace=False)
    noise = rng.standard_normal((queries, real.shape[1]), np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    q = db[src] + 0.25 * noise
    return db, q / np.linalg.norm(q, axis=1, keepdims=True)


def measure(name: str, db: np.ndarray, queries: np.ndarray, exact_top1: np.ndarray, latency_queries: int) -> dict:
    """Build index ``name`` over db [N, D]; latency, bytes per place and agreement over queries [Nq, D]."""
    faiss.omp_set_num_threads(2)
    start = time.perf_counter()
    index, _, params = build_index(name, db)
    build_s = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    _, top = index.search(queries, 1)
    times = []
    for q in queries[:latency_queries]:
        t = time.perf_counter()
        index.search(q[None], 1)
        times.append(time.perf_counter() - t)
    return {
        "index": name,
        "params": params,
        "n": len(db),
        "build_s": build_s,
        "ms": 1e3 * statistics.median(times),
        "bytes": len(faiss.serialize_index(index)) / len(db),
        "agree": 100.0 * float(np.mean(top[:, 0] == exact_top1)),
    }


def report(title: str, db: np.ndarray, queries: np.ndarray, hnsw_n: int, latency_queries: int) -> None:
    """Print one table: every index type on db [N, D] with queries [Nq, D]."""
    print(f"\n{title}: {len(db)} places x {db.shape[1]}-d, {len(queries)} queries")
    print(
        f"{'index':<6} {'places':>8} {'build s':>8} {'ms/query':>9} {'bytes/place':>11} {'top-1 agree %':>13}  params"
    )
    exact_top1 = {}
    for name in INDEX_TYPES:
        n = min(hnsw_n, len(db)) if name == "hnsw" else len(db)
        if n not in exact_top1:
            exact = faiss.IndexFlatIP(db.shape[1])
            exact.add(db[:n])
            faiss.omp_set_num_threads(2)
            exact_top1[n] = exact.search(queries, 1)[1][:, 0]
            del exact
        try:
            r = measure(name, db[:n], queries, exact_top1[n], latency_queries)
        except ValueError as exc:
            print(f"{name:<6} skipped: {exc}")
            continue
        print(
            f"{name:<6} {r['n']:>8} {r['build_s']:>8.1f} {r['ms']:>9.3f} {r['bytes']:>11.0f} {r['agree']:>13.1f}  "
            f"{r['params']}"
        )


def main() -> None:
    """Real Nordland descriptors, then synthetic ones at scale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--hnsw-n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--latency-queries", type=int, default=200)
    args = parser.parse_args()
    model = exported_model(Path(tempfile.gettempdir()) / "vgssl_bench_64x128.onnx", 64, 128)
    db, queries = real_descriptors(model)
    report(
        "real Nordland64 (summer database of all splits, winter test queries)",
        db,
        queries,
        len(db),
        args.latency_queries,
    )
    syn_db, syn_q = synthetic(db, args.n, args.queries)
    report("synthetic", syn_db, syn_q, args.hnsw_n, args.latency_queries)


if __name__ == "__main__":
    main()
