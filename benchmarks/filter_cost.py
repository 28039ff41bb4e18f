"""Temporal filter cost per frame against map size (target: <= 1 ms per frame for 10,000 places).

Synthetic map: places every 10 m along a winding road, random unit descriptors (dim 1280 like
EfficientNet-Lite0 + GeM); a drive of noisy views, one place per frame. Times `PlaceFilter.step`
only (the FAISS search is timed by the node benchmark); the seeds come from an exact search done
beforehand. Prints median and p95 ms per frame, and the one-off time to build the map's layout (neighbours
and gap bridges, done when the node starts).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. taskset -c 0 .venv/bin/python benchmarks/filter_cost.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vgssl_ros.core.filter import FilterConfig, ObservationModel, PlaceFilter, PlaceLayout


def synthetic_map(places: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Place positions [N, 2] (10 m apart on a winding road) and unit descriptors [N, dim]."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.05, places))
    utm = np.cumsum(10.0 * np.stack([np.cos(heading), np.sin(heading)], axis=1), axis=0) + [450000.0, 7250000.0]
    desc = rng.normal(size=(places, dim)).astype(np.float32)
    return utm, desc / np.linalg.norm(desc, axis=1, keepdims=True)


def run(places: int, dim: int, frames: int, config: FilterConfig) -> tuple[np.ndarray, float]:
    """Per-frame times (ms) of the filter on a drive of ``frames`` frames over a map of ``places``, and the
    layout build time (s)."""
    utm, desc = synthetic_map(places, dim)
    t0 = time.perf_counter()
    layout = PlaceLayout.build(utm, config.step_radius_m)
    build_s = time.perf_counter() - t0
    f = PlaceFilter(
        layout, ObservationModel(desc, config.temperature, config.query_mean_rate, config.reference_places), config
    )
    rng = np.random.default_rng(1)
    route = np.arange(100, 100 + frames) % places
    queries = desc[route] + 0.04 * rng.normal(size=(frames, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    seeds = np.argsort(-(queries @ desc.T), axis=1)[:, : config.seed_k]
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        f.step(queries[i], seeds[i], 0.1 * i)
        times.append((time.perf_counter() - t0) * 1e3)
    return np.array(times[10:]), build_s  # after the first frames (warm caches)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--places", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--dim", type=int, default=1280)
    p.add_argument("--frames", type=int, default=300)
    args = p.parse_args()
    config = FilterConfig()
    print(f"filter defaults: {config}")
    print("| places | median ms/frame | p95 ms/frame | layout build s |")
    print("| ---: | ---: | ---: | ---: |")
    for n in args.places:
        t, build_s = run(n, args.dim, args.frames, config)
        print(f"| {n} | {np.median(t):.3f} | {np.percentile(t, 95):.3f} | {build_s:.2f} |", flush=True)


if __name__ == "__main__":
    main()
