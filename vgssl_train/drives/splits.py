"""Splits of a dataset made from drives: stretches of the database route by distance, with the frames near a
split border dropped so that no place of one split lies within BORDER_M of a place of another."""

from __future__ import annotations

import numpy as np

from vgssl_ros.geo import EVAL_RADIUS_M
from vgssl_ros.geo.grid import pairs_within

SPLIT_NAMES = ("train", "val", "test")
BORDER_M = EVAL_RADIUS_M
"""A place within this distance of a place of another split would be seen in both: such frames are dropped."""
CHUNK = 2048
"""Points compared at once in ``nearest`` (CHUNK x database distances in memory)."""


def route_distance(utm: np.ndarray) -> np.ndarray:
    """Metres travelled [N] along positions [N, 2] taken in driving order (0 at the first)."""
    steps = np.linalg.norm(np.diff(np.asarray(utm, np.float64).reshape(-1, 2), axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def split_by_distance(along: np.ndarray, fractions: tuple[float, ...]) -> np.ndarray:
    """Split index [N] of each distance ``along`` [N]: contiguous stretches of the route with lengths in
    proportion to ``fractions`` (e.g. 60, 15, 25), in route order."""
    weights = np.asarray(fractions, np.float64)
    if weights.ndim != 1 or len(weights) == 0 or not (weights > 0).all():
        raise ValueError(f"split fractions must be positive numbers, e.g. 60 15 25; got {list(fractions)}")
    length = float(along[-1]) if len(along) else 0.0
    borders = np.cumsum(weights)[:-1] / weights.sum() * length
    return np.searchsorted(borders, along, side="right").astype(np.int64)


def nearest(points: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``points`` [N, 2] the index [N] of the nearest of ``reference`` [M, 2] and its distance [N] m."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    r = np.asarray(reference, np.float64).reshape(-1, 2)
    idx, dist = np.zeros(len(p), np.int64), np.zeros(len(p))
    for start in range(0, len(p), CHUNK):
        d2 = ((p[start : start + CHUNK, None, :] - r[None, :, :]) ** 2).sum(axis=2)
        idx[start : start + CHUNK] = d2.argmin(axis=1)
        dist[start : start + CHUNK] = np.sqrt(d2.min(axis=1))
    return idx, dist


def near_other_split(utm: np.ndarray, split: np.ndarray, radius_m: float = BORDER_M) -> np.ndarray:
    """Mask [N]: the positions ``utm`` [N, 2] within ``radius_m`` of a position of another ``split`` [N]."""
    a, b, _ = pairs_within(utm, utm, radius_m)
    crossing = split[a] != split[b]
    mask = np.zeros(len(split), bool)
    mask[a[crossing]] = True
    return mask
