"""The map's spatial layout for the motion model: each place's neighbours within one frame's reach."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgssl_ros.geo import neighbours_within

AUTO_STEP_SPACINGS = 5.0
"""Auto step radius, in median place spacings."""


@dataclass(frozen=True)
class PlaceLayout:
    """Neighbour lists in CSR form: place i reaches ``neighbours[offsets[i]:offsets[i+1]]`` [n_i] with
    displacements ``displacement[...]`` [n_i, 2] m (itself included, displacement 0)."""

    utm: np.ndarray
    offsets: np.ndarray
    neighbours: np.ndarray
    displacement: np.ndarray
    spacing_m: float
    step_radius_m: float

    @classmethod
    def build(cls, places_utm: np.ndarray, step_radius_m: float = 0.0) -> "PlaceLayout":
        """Neighbours of every place [N, 2] within ``step_radius_m`` (0: auto from the median spacing)."""
        utm = np.asarray(places_utm, dtype=np.float64).reshape(-1, 2)
        if len(utm) == 0 or not np.isfinite(utm).all():
            raise ValueError("the filter needs at least one place, with finite positions")
        spacing = median_spacing(utm)
        radius = float(step_radius_m) if step_radius_m > 0 else AUTO_STEP_SPACINGS * spacing
        lists = neighbours_within(utm, utm, radius)
        offsets = np.zeros(len(utm) + 1, np.int64)
        offsets[1:] = np.cumsum([len(n) for n in lists])
        neighbours = np.concatenate(lists).astype(np.int64)
        owner = np.repeat(np.arange(len(utm)), np.diff(offsets))
        return cls(utm, offsets, neighbours, utm[neighbours] - utm[owner], spacing, radius)

    def gather(self, places: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For places [M]: (row [E] index into ``places``, neighbour [E] place index, displacement [E, 2])."""
        starts, ends = self.offsets[places], self.offsets[places + 1]
        counts = ends - starts
        row = np.repeat(np.arange(len(places)), counts)
        flat = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        return row, self.neighbours[flat], self.displacement[flat]


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
