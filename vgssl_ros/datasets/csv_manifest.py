"""CSV manifest for one's own photos: an image path column plus lat/lon or UTM columns."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from vgssl_ros.datasets.errors import DatasetError
from vgssl_ros.datasets.geo_images import GeoImages, check_positions
from vgssl_ros.geo import UtmZone, latlon_to_utm

EXPECTED = (
    "a header with 'image' (path, relative to the CSV) and either 'lat','lon' or "
    "'utm_east','utm_north','utm_zone','utm_band'; optional 'heading' (deg), 'timestamp' (s), "
    "and for training/evaluation 'split' (train|val|test) and 'role' (database|queries)"
)


def read_csv_manifest(path: str | Path, where: dict[str, str] | None = None) -> GeoImages:
    """Read a CSV manifest, keeping rows whose columns equal ``where``; paths are relative to the CSV."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"CSV manifest {path} does not exist; expected {EXPECTED}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k is not None} for r in reader]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path} cannot be read as CSV ({exc}); expected {EXPECTED}") from None
    for col, value in (where or {}).items():
        if col not in header:
            raise DatasetError(f"{path}: no {col!r} column to select {col}={value}; expected {EXPECTED}")
        rows = [r for r in rows if r[col] == value]
        if not rows:
            raise DatasetError(f"{path}: no rows with {col}={value}")
    if "image" not in header:
        raise DatasetError(f"{path}: no 'image' column (header: {header}); expected {EXPECTED}")
    if not rows:
        raise DatasetError(f"{path}: the manifest has no rows; expected {EXPECTED}")
    has_latlon = {"lat", "lon"} <= set(header)
    has_utm = {"utm_east", "utm_north", "utm_zone", "utm_band"} <= set(header)
    if not (has_latlon or has_utm):
        raise DatasetError(f"{path}: no position columns (header: {header}); expected {EXPECTED}")
    paths = [str((path.parent / r["image"]).resolve()) if r["image"] else "" for r in rows]
    for line, p in enumerate(paths, start=2):
        if not p:
            raise DatasetError(f"{path}:{line}: empty 'image' field")

    def floats(col: str) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        for i, r in enumerate(rows):
            v = r.get(col, "")
            if v == "":
                continue
            try:
                out[i] = float(v)
            except ValueError:
                raise DatasetError(f"{path}:{i + 2}: column {col!r} is not a number: {v!r}") from None
        return out

    if has_utm:
        en = np.stack([floats("utm_east"), floats("utm_north")], axis=1)
        zones = {(r["utm_zone"], r["utm_band"]) for r in rows}
        if len(zones) != 1:
            raise DatasetError(f"{path}: rows use several UTM zones {sorted(zones)}; use one zone or lat/lon")
        number, band = zones.pop()
        try:
            zone = UtmZone(int(number), band)
        except ValueError as exc:
            raise DatasetError(f"{path}: bad UTM zone {number}{band}: {exc}") from None
        latlon = None
    else:
        latlon = np.stack([floats("lat"), floats("lon")], axis=1)
        en, zone = None, None
    bad = np.where(~np.isfinite(en if en is not None else latlon).all(axis=1))[0]
    if bad.size:
        raise DatasetError(f"{path}:{int(bad[0]) + 2}: missing position; expected {EXPECTED}")
    if en is None:
        ok = (latlon[:, 0] >= -80) & (latlon[:, 0] <= 84) & (np.abs(latlon[:, 1]) <= 180)
        bad = np.flatnonzero(~ok)
        if bad.size:
            raise DatasetError(
                f"{path}:{int(bad[0]) + 2}: lat/lon {latlon[bad[0]].tolist()} outside UTM's -80..84, -180..180"
            )
        en, zone = latlon_to_utm(latlon[:, 0], latlon[:, 1])
    check_positions(en, zone, [r["image"] for r in rows], str(path))
    return GeoImages(
        paths=paths,
        utm=en,
        zone=zone,
        latlon=latlon,
        heading=floats("heading") if "heading" in header else None,
        timestamp=floats("timestamp") if "timestamp" in header else None,
        ids=[r["image"] for r in rows],
    )
