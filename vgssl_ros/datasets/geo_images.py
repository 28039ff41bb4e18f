"""GeoImages: image paths with UTM positions, the currency of every reader."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vgssl_ros.datasets.errors import DatasetError
from vgssl_ros.geo import UtmZone, utm_to_latlon

UTM_RANGE = "finite, east 0..1e6 m, north 0..1e7 m in one zone"


@dataclass
class GeoImages:
    """Images with positions: ``paths`` [N], ``utm`` [N, 2] east/north metres in ``zone``.

    ``latlon`` [N, 2] degrees; ``heading`` [N] degrees or NaN; ``timestamp`` [N] seconds or NaN;
    ``ids`` [N] a stable id per image (file name or key).
    """

    paths: list[str]
    utm: np.ndarray
    zone: UtmZone
    latlon: np.ndarray | None = None
    heading: np.ndarray | None = None
    timestamp: np.ndarray | None = None
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.paths)
        self.utm = np.asarray(self.utm, dtype=np.float64).reshape(n, 2)
        if self.latlon is None:
            self.latlon = utm_to_latlon(self.utm, self.zone)
        self.latlon = np.asarray(self.latlon, dtype=np.float64).reshape(n, 2)
        self.heading = _column(self.heading, n)
        self.timestamp = _column(self.timestamp, n)
        if not self.ids:
            self.ids = [p.rsplit("/", 1)[-1] for p in self.paths]
        if len(self.ids) != n:
            raise ValueError(f"GeoImages: {len(self.ids)} ids for {n} paths")

    def __len__(self) -> int:
        return len(self.paths)


def _column(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return np.asarray(values, dtype=np.float64).reshape(n)


def check_positions(utm: np.ndarray, zone: UtmZone, ids: list[str], where: str) -> None:
    """Raise DatasetError naming the first image whose UTM position [N, 2] is not finite or outside the zone's range."""
    ok = np.isfinite(utm).all(axis=1) & (utm[:, 0] >= 0) & (utm[:, 0] <= 1e6) & (utm[:, 1] >= 0) & (utm[:, 1] <= 1e7)
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        raise DatasetError(
            f"{where}: {int((~ok).sum())} images have a position outside UTM zone {zone} ({UTM_RANGE}), "
            f"first {ids[first]!r} at {utm[first].tolist()}; fix the position or use one zone per dataset"
        )
