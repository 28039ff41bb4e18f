"""The common VPR-datasets layout: positions in file names ``@east@north@zone@band@lat@lon@...@.ext``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vgssl_ros.datasets.errors import DatasetError
from vgssl_ros.datasets.geo_images import GeoImages, check_positions
from vgssl_ros.datasets.images import IMAGE_EXTENSIONS
from vgssl_ros.geo import UtmZone, latlon_to_utm

EXPECTED = "@utm_east@utm_north@utm_zone@utm_band@lat@lon@...@.jpg (the VPR-datasets layout)"
MAX_DISAGREEMENT_M = 1000.0
"""A name whose lat/lon lies farther than this from its UTM east/north is refused (a dropped or shifted field)."""


def parse_vpr_name(name: str) -> tuple[float, float, UtmZone, float, float]:
    """Parse a VPR-layout file name into (east, north, zone, lat, lon); raise DatasetError if malformed."""
    fields = Path(name).name.split("@")
    try:
        if len(fields) < 7 or fields[0] != "":
            raise ValueError("too few '@' fields")
        east, north = float(fields[1]), float(fields[2])
        zone = UtmZone(int(fields[3]), fields[4])
        lat = float(fields[5]) if fields[5] else float("nan")
        lon = float(fields[6]) if fields[6] else float("nan")
        _check_fields(east, north, zone, fields[5], fields[6], lat, lon)
    except ValueError as exc:
        raise DatasetError(f"cannot parse position from file name {name!r} ({exc}); expected {EXPECTED}") from None
    return east, north, zone, lat, lon


def _check_fields(
    east: float, north: float, zone: UtmZone, lat_text: str, lon_text: str, lat: float, lon: float
) -> None:
    """ValueError when east/north are not finite, lat/lon half given or out of range, or lat/lon and UTM disagree."""
    if not (np.isfinite([east, north]).all() and 0 <= east <= 1e6 and 0 <= north <= 1e7):
        raise ValueError(f"UTM east/north {east}, {north} not finite or outside 0..1e6, 0..1e7 m")
    if bool(lat_text) != bool(lon_text):
        raise ValueError("only one of lat and lon is given (a dropped or shifted field?)")
    if not lat_text:
        return
    if not (np.isfinite([lat, lon]).all() and -80 <= lat <= 84 and abs(lon) <= 180):
        raise ValueError(f"lat/lon {lat}, {lon} not finite or out of range (UTM: lat -80..84, lon -180..180)")
    en, _ = latlon_to_utm(np.array([lat]), np.array([lon]), zone)
    gap = float(np.hypot(*(en[0] - [east, north])))
    if not gap <= MAX_DISAGREEMENT_M:
        raise ValueError(
            f"lat/lon {lat}, {lon} lie {gap:.0f} m from UTM {east}, {north} in zone {zone} (more than "
            f"{MAX_DISAGREEMENT_M:.0f} m: a dropped, shifted or swapped field?)"
        )


def format_vpr_name(
    east: float, north: float, zone: UtmZone, lat: float, lon: float, extra: tuple[str, ...] = (), ext: str = ".jpg"
) -> str:
    """The VPR-layout file name for a position; ``extra`` fields follow lat/lon (pano id, heading ...)."""
    fields = [f"{east:.2f}", f"{north:.2f}", str(zone.number), zone.band, f"{lat:.6f}", f"{lon:.6f}", *extra]
    if any("@" in f or "/" in f for f in fields):
        raise ValueError(f"VPR name fields must not contain '@' or '/': {fields}")
    return "@" + "@".join(fields) + "@" + ext


def read_vpr_folder(folder: str | Path) -> GeoImages:
    """Read every image below ``folder`` (recursively, sorted by path) with positions from its name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"dataset folder {folder} does not exist; expected images named {EXPECTED}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise DatasetError(f"no images in {folder}; expected files named {EXPECTED}")
    rows = [parse_vpr_name(p.name) for p in files]
    zones = {r[2] for r in rows}
    if len(zones) > 1:
        raise DatasetError(f"{folder} mixes UTM zones {sorted(map(str, zones))}; one folder must use one zone")
    utm_en = np.array([[r[0], r[1]] for r in rows], dtype=np.float64)
    latlon = np.array([[r[3], r[4]] for r in rows], dtype=np.float64)
    zone = rows[0][2]
    check_positions(utm_en, zone, [p.name for p in files], str(folder))
    images = GeoImages(paths=[str(p) for p in files], utm=utm_en, zone=zone, latlon=None, ids=[p.name for p in files])
    if np.isfinite(latlon).all():
        images.latlon = latlon
    return images
