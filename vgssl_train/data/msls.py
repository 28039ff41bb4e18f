"""Mapillary SLS raw layout: ``train_val/<city>/{query,database}/{postprocessed,raw}.csv`` + ``images/<key>.jpg``."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from vgssl_ros.datasets import DatasetError, GeoImages
from vgssl_ros.geo import latlon_to_utm

VAL_CITIES = ("cph", "sf")
EXPECTED = (
    "train_val/<city>/{query,database}/ with postprocessed.csv (key, easting, northing) and "
    "raw.csv (key, lon, lat, ca, captured_at, pano), images in images/<key>.jpg"
)
ROLE_FOLDERS = {"database": "database", "queries": "query"}


def read_msls_split(root: str | Path, split: str, role: str, cities: list[str] | None = None) -> list[GeoImages]:
    """Read MSLS ``split`` (train|val) for ``role`` (database|queries): one GeoImages per city.

    Each city keeps its own UTM zone; panoramas are left out as in the MSLS reference code.
    """
    root = Path(root) / "train_val"
    if not root.is_dir():
        raise DatasetError(f"MSLS root {root} does not exist; expected {EXPECTED}")
    if split == "test":
        raise DatasetError("MSLS test has no public positions; evaluate on split 'val' (cities cph, sf)")
    if role not in ROLE_FOLDERS:
        raise ValueError(f"role must be one of {sorted(ROLE_FOLDERS)}, got {role!r}")
    available = sorted(p.name for p in root.iterdir() if p.is_dir())
    if cities is None:
        cities = [c for c in available if (c in VAL_CITIES) == (split == "val")]
    missing = [c for c in cities if c not in available]
    if missing or not cities:
        raise DatasetError(f"MSLS {split}: cities {missing or cities} not found under {root} (found {available})")
    return [_read_city(root / c / ROLE_FOLDERS[role]) for c in cities]


def _read_city(folder: Path) -> GeoImages:
    post = _read_csv(folder / "postprocessed.csv")
    raw = {r["key"]: r for r in _read_csv(folder / "raw.csv")}
    keys, en, latlon, heading, stamp = [], [], [], [], []
    for line, row in enumerate(post, start=2):
        key = row.get("key", "")
        r = raw.get(key)
        if r is None:
            raise DatasetError(f"{folder / 'postprocessed.csv'}:{line}: key {key!r} is not in raw.csv")
        if r.get("pano", "False").strip().lower() in ("true", "1"):
            continue
        try:
            east = float(row.get("easting", row.get("east", "nan")))
            north = float(row.get("northing", row.get("north", "nan")))
            latlon.append((float(r["lat"]), float(r["lon"])))
        except (KeyError, ValueError) as exc:
            raise DatasetError(f"{folder}:{line}: bad position for key {key!r} ({exc}); expected {EXPECTED}") from None
        keys.append(key)
        en.append((east, north))
        heading.append(float(r.get("ca") or "nan"))
        stamp.append(float(r.get("captured_at") or "nan") / 1000.0)
    if not keys:
        raise DatasetError(f"{folder}: no non-panorama images listed; expected {EXPECTED}")
    latlon_arr = np.asarray(latlon, dtype=np.float64)
    utm_from_ll, zone = latlon_to_utm(latlon_arr[:, 0], latlon_arr[:, 1])
    en_arr = np.asarray(en, dtype=np.float64)
    # postprocessed.csv carries UTM; where it is missing, derive it from raw lat/lon.
    en_arr = np.where(np.isfinite(en_arr), en_arr, utm_from_ll)
    return GeoImages(
        paths=[str(folder / "images" / f"{k}.jpg") for k in keys],
        utm=en_arr,
        zone=zone,
        latlon=latlon_arr,
        heading=np.asarray(heading),
        timestamp=np.asarray(stamp),
        ids=keys,
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DatasetError(f"missing {path}; expected {EXPECTED}")
    with path.open(newline="") as f:
        rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]
    if not rows:
        raise DatasetError(f"{path} has no rows; expected {EXPECTED}")
    return rows
