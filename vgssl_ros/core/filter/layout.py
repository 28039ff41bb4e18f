"""The map's spatial layout for the motion model: each place's neighbours within one frame's reach.

Maps have gaps (tunnels without GNSS, stretches skipped while mapping, a route mapped in pieces). A
place whose reach leaves a direction empty is bridged to the nearest place in that direction (one of
``BRIDGE_SECTORS`` sectors) up to ``BRIDGE_SPACINGS`` median spacings away, so a hypothesis that
reaches the end of a mapped stretch carries on across the gap instead of dying there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgssl_ros.geo import neighbours_within

AUTO_STEP_SPACINGS = 5.0
"""Auto step radius, in median place spacings."""
BRIDGE_SECTORS = 8
"""Directions (equal sectors) a place must reach, if any place lies that way within the bridge distance."""
BRIDGE_SPACINGS = 20.0
"""Longest bridge across a gap in the map, in median place spacings."""
BRIDGE_CANDIDATES = 32
"""Nearest places examined for bridges."""


@dataclass(frozen=True)
class PlaceLayout:
    """Neighbour lists in CSR form: place i reaches ``neighbours[offsets[i]:offsets[i+1]]`` [n_i] with
    displacements ``displacement[...]`` [n_i, 2] m (itself included, displacement 0); ``bridge[...]`` [n_i]
    marks the neighbours across a gap (beyond the step radius)."""

    utm: np.ndarray
    offsets: np.ndarray
    neighbours: np.ndarray
    displacement: np.ndarray
    bridge: np.ndarray
    spacing_m: float
    step_radius_m: float

    @classmethod
    def build(cls, places_utm: np.ndarray, step_radius_m: float = 0.0) -> "PlaceLayout":
        """Neighbours of every place [N, 2] within ``step_radius_m`` (0: auto from the median spacing), plus bridges."""
        utm = np.asarray(places_utm, dtype=np.float64).reshape(-1, 2)
        if len(utm) == 0 or not np.isfinite(utm).all():
            raise ValueError("the filter needs at least one place, with finite positions")
        spacing = median_spacing(utm)
        radius = float(step_radius_m) if step_radius_m > 0 else AUTO_STEP_SPACINGS * spacing
        lists = neighbours_within(utm, utm, radius)
        bridges = gap_bridges(utm, lists, radius, BRIDGE_SPACINGS * spacing)
        flags = np.concatenate([np.concatenate([np.zeros(len(n), bool), np.ones(len(b), bool)])
                                for n, b in zip(lists, bridges)])
        lists = [np.concatenate([n, b]) for n, b in zip(lists, bridges)]
        offsets = np.zeros(len(utm) + 1, np.int64)
        offsets[1:] = np.cumsum([len(n) for n in lists])
        neighbours = np.concatenate(lists).astype(np.int64)
        owner = np.repeat(np.arange(len(utm)), np.diff(offsets))
        return cls(utm, offsets, neighbours, utm[neighbours] - utm[owner], flags, spacing, radius)

    def gather(self, places: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For places [M]: (row [E] index into ``places``, neighbour [E] place index, displacement [E, 2], bridge [E])."""
        starts, ends = self.offsets[places], self.offsets[places + 1]
        counts = ends - starts
        row = np.repeat(np.arange(len(places)), counts)
        flat = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        return row, self.neighbours[flat], self.displacement[flat], self.bridge[flat]


def _sector(disp: np.ndarray) -> np.ndarray:
    """Direction sector [...] (0..BRIDGE_SECTORS-1) of displacements [..., 2]."""
    angle = np.arctan2(disp[..., 1], disp[..., 0]) % (2 * np.pi)
    return np.minimum((angle / (2 * np.pi) * BRIDGE_SECTORS).astype(np.int64), BRIDGE_SECTORS - 1)


def gap_bridges(utm: np.ndarray, reach: list[np.ndarray], radius_m: float, max_bridge_m: float) -> list[np.ndarray]:
    """Per place [N, 2]: the nearest place beyond ``radius_m`` (up to ``max_bridge_m``) in each direction sector
    that ``reach`` (neighbours within the radius) leaves empty; [b_i] indices, nearest first."""
    n = len(utm)
    if n < 2 or max_bridge_m <= radius_m:
        return [np.zeros(0, np.int64) for _ in range(n)]
    import faiss

    covered = np.zeros(n, np.int64)  # bit s set: sector s already reached within the radius
    owner = np.repeat(np.arange(n), [len(r) for r in reach])
    flat = np.concatenate(reach).astype(np.int64)
    disp = utm[flat] - utm[owner]
    moving = (disp**2).sum(axis=1) > 1e-6
    np.bitwise_or.at(covered, owner[moving], 1 << _sector(disp[moving]))
    origin = utm.mean(axis=0)
    index = faiss.IndexFlatL2(2)
    index.add(np.ascontiguousarray(utm - origin, dtype=np.float32))
    k = min(BRIDGE_CANDIDATES + 1, n)
    _, ids = index.search(np.ascontiguousarray(utm - origin, dtype=np.float32), k)
    chosen = np.full((n, k), -1, np.int64)
    for col in range(k):  # nearest first: the first candidate in an empty sector bridges it
        cand = ids[:, col]
        valid = cand >= 0
        d = utm[np.where(valid, cand, 0)] - utm
        dist = np.linalg.norm(d, axis=1)
        bit = 1 << _sector(d)
        take = valid & (dist >= radius_m) & (dist <= max_bridge_m) & ((covered & bit) == 0)
        chosen[take, col] = cand[take]
        covered[take] |= bit[take]
    return [row[row >= 0] for row in chosen]


def median_spacing(utm: np.ndarray, sample: int = 2000) -> float:
    """Median distance (m) from a place to its nearest other place (on up to ``sample`` places); 1 m if none."""
    if len(utm) < 2:
        return 1.0
    import faiss

    origin = utm.mean(axis=0)
    index = faiss.IndexFlatL2(2)
    index.add(np.ascontiguousarray(utm - origin, dtype=np.float32))
    pick = np.random.default_rng(0).choice(len(utm), min(sample, len(utm)), replace=False)
    dist2, _ = index.search(np.ascontiguousarray(utm[pick] - origin, dtype=np.float32), 2)
    nearest = np.sqrt(np.maximum(dist2[:, 1], 0.0))
    nearest = nearest[nearest > 1e-3]  # duplicate positions say nothing about spacing
    return float(np.median(nearest)) if nearest.size else 1.0
