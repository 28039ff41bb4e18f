"""The map's spatial layout for the motion model: each place's neighbours within one frame's reach.

Maps have gaps (tunnels without GNSS, stretches skipped while mapping, a route mapped in pieces). A
place at the end of a mapped stretch (its reach covers some direction but not the opposite one) is
bridged to the nearest place in each of those opposite directions (sectors of 360 / ``BRIDGE_SECTORS``
degrees) up to ``BRIDGE_SPACINGS`` median spacings away (constants: tuning.py), so a hypothesis that
reaches the end of a stretch carries on across the gap instead of dying there. Neighbours are found through a grid
(`vgssl_ros.geo.grid`): building the layout grows with the number of close pairs, not places squared.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vgssl_ros.core.filter.tuning import (
    AUTO_STEP_SPACINGS,
    BRIDGE_SECTORS,
    BRIDGE_SPACINGS,
    DUPLICATE_M,
    SAME_POSITION_M2,
    SPACING_SAMPLE,
)
from vgssl_ros.geo.grid import pairs_within


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
    def build(cls, places_utm: np.ndarray, step_radius_m: float = 0.0) -> PlaceLayout:
        """Neighbours of every place [N, 2] within ``step_radius_m`` (0: auto from the median spacing), plus bridges."""
        utm = np.asarray(places_utm, dtype=np.float64).reshape(-1, 2)
        if len(utm) == 0 or not np.isfinite(utm).all():
            raise ValueError("the filter needs at least one place, with finite positions")
        spacing = median_spacing(utm)
        radius = float(step_radius_m) if step_radius_m > 0 else AUTO_STEP_SPACINGS * spacing
        owner, neighbours, _ = pairs_within(utm, utm, radius)
        b_owner, b_other = gap_bridges(utm, owner, neighbours, radius, BRIDGE_SPACINGS * spacing)
        bridge = np.concatenate([np.zeros(len(owner), bool), np.ones(len(b_owner), bool)])
        owner, neighbours = np.concatenate([owner, b_owner]), np.concatenate([neighbours, b_other])
        order = np.argsort(owner, kind="stable")
        owner, neighbours, bridge = owner[order], neighbours[order], bridge[order]
        offsets = np.zeros(len(utm) + 1, np.int64)
        offsets[1:] = np.cumsum(np.bincount(owner, minlength=len(utm)))
        return cls(utm, offsets, neighbours, utm[neighbours] - utm[owner], bridge, spacing, radius)

    def gather(self, places: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For places [M]: (row [E] index into ``places``, neighbour [E] place index, displacement [E, 2],
        bridge [E])."""
        starts, ends = self.offsets[places], self.offsets[places + 1]
        counts = ends - starts
        row = np.repeat(np.arange(len(places)), counts)
        flat = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        return row, self.neighbours[flat], self.displacement[flat], self.bridge[flat]

    @cached_property
    def centre(self) -> np.ndarray:
        """Mean position [2] of the map's places (UTM m)."""
        centre: np.ndarray = self.utm.mean(axis=0)
        return centre

    @cached_property
    def spread(self) -> np.ndarray:
        """Covariance [2, 2] m^2 of the map's places about their mean."""
        spread: np.ndarray = np.cov(self.utm.T, bias=True).reshape(2, 2)
        return spread


def _sector(disp: np.ndarray) -> np.ndarray:
    """Direction sector [...] (0..BRIDGE_SECTORS-1) of displacements [..., 2]."""
    angle = np.arctan2(disp[..., 1], disp[..., 0]) % (2 * np.pi)
    sector: np.ndarray = np.minimum((angle / (2 * np.pi) * BRIDGE_SECTORS).astype(np.int64), BRIDGE_SECTORS - 1)
    return sector


def gap_bridges(
    utm: np.ndarray, owner: np.ndarray, other: np.ndarray, radius_m: float, max_bridge_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bridges (owner [B], other [B] place indices) across gaps, from the reach pairs ``owner`` [P] -> ``other`` [P]
    within ``radius_m``. Only the ends of mapped stretches get them: a place whose reach covers some direction
    sector but none of the three opposite ones is bridged, in those opposite sectors, to the nearest place up to
    ``max_bridge_m`` away (a place that reaches nothing, in every sector)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if max_bridge_m <= radius_m or len(utm) < 2:
        return empty
    disp = utm[other] - utm[owner]
    moving = (disp**2).sum(axis=1) > SAME_POSITION_M2
    covered = np.zeros(len(utm), np.int64)  # bit s set: sector s reached within the radius
    np.bitwise_or.at(covered, owner[moving], 1 << _sector(disp[moving]))
    all_sectors = (1 << BRIDGE_SECTORS) - 1
    wanted = np.where(covered == 0, all_sectors, 0)
    for s in range(BRIDGE_SECTORS):
        opposite = sum(1 << ((s + k) % BRIDGE_SECTORS) for k in (3, 4, 5))
        dead_end = ((covered >> s) & 1 == 1) & (covered & opposite == 0)
        wanted |= np.where(dead_end, opposite, 0)
    ends = np.flatnonzero(wanted)
    if ends.size == 0:
        return empty
    row, cand, dist = pairs_within(utm[ends], utm, max_bridge_m)  # sorted by row, then distance
    sector = _sector(utm[cand] - utm[ends[row]])
    ok = (dist >= radius_m) & ((wanted[ends[row]] >> sector) & 1 == 1)
    row, cand, sector = row[ok], cand[ok], sector[ok]
    _, first = np.unique(row * BRIDGE_SECTORS + sector, return_index=True)  # nearest per (place, sector)
    return ends[row[first]], cand[first]


def median_spacing(utm: np.ndarray, sample: int = SPACING_SAMPLE) -> float:
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
    nearest = nearest[nearest > DUPLICATE_M]  # duplicate positions say nothing about spacing
    return float(np.median(nearest)) if nearest.size else 1.0
