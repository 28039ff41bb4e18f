"""WGS84 lat/lon <-> UTM metres, vectorised over arrays (the `utm` package does the maths)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import utm


@dataclass(frozen=True)
class UtmZone:
    """A UTM zone number and latitude band letter, e.g. ``UtmZone(33, "W")``."""

    number: int
    band: str

    def __post_init__(self) -> None:
        if not 1 <= int(self.number) <= 60:
            raise ValueError(f"UTM zone number must be 1..60, got {self.number}")
        if len(self.band) != 1 or self.band.upper() not in "CDEFGHJKLMNPQRSTUVWX":
            raise ValueError(f"UTM band must be one letter C..X (not I/O), got {self.band!r}")

    @property
    def northern(self) -> bool:
        """True for bands N..X (northern hemisphere)."""
        return self.band.upper() >= "N"

    def __str__(self) -> str:
        return f"{self.number}{self.band.upper()}"


def latlon_to_utm(lat: np.ndarray, lon: np.ndarray, zone: UtmZone | None = None) -> tuple[np.ndarray, UtmZone]:
    """Convert lat/lon [N] in degrees to UTM east/north [N, 2] in metres.

    All points go into one zone: ``zone`` if given, else the zone of the first point.
    """
    lat = np.asarray(lat, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon, dtype=np.float64).reshape(-1)
    if lat.size == 0:
        raise ValueError("latlon_to_utm needs at least one point")
    if zone is None:
        _, _, number, band = utm.from_latlon(float(lat[0]), float(lon[0]))
        zone = UtmZone(int(number), band)
    east, north, _, _ = utm.from_latlon(lat, lon, force_zone_number=zone.number, force_zone_letter=zone.band)
    return np.stack([np.asarray(east, np.float64), np.asarray(north, np.float64)], axis=1).reshape(-1, 2), zone


def utm_to_latlon(east_north: np.ndarray, zone: UtmZone) -> np.ndarray:
    """Convert UTM east/north [N, 2] in ``zone`` to lat/lon [N, 2] in degrees."""
    en = np.asarray(east_north, dtype=np.float64).reshape(-1, 2)
    if en.shape[0] == 0:
        return np.zeros((0, 2))
    lat, lon = utm.to_latlon(en[:, 0], en[:, 1], zone.number, northern=zone.northern, strict=False)
    return np.stack([np.asarray(lat), np.asarray(lon)], axis=1).reshape(-1, 2)
