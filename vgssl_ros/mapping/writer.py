"""Write a map directory atomically: map.json, the FAISS index, the places table and the thumbnails, or nothing."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from vgssl_ros.core.map import INDEX_FILE, MAP_FORMAT, MAP_JSON, METRIC, PLACES_FILE
from vgssl_ros.core.places import Places
from vgssl_ros.core.thumbnails import THUMBNAILS_FILE, Thumbnails
from vgssl_ros.geo import UtmZone
from vgssl_ros.io import atomic_dir, write_json_atomic
from vgssl_ros.mapping.index_types import build_index


def write_map(
    out: str | Path,
    descriptors: np.ndarray,
    places: Places,
    zone: UtmZone,
    model_sha256: str,
    model_metadata: dict[str, str],
    index_type: str,
    source: dict[str, Any],
    overwrite: bool = False,
    thumbnails: Thumbnails | None = None,
    thumbnail_width: int = 0,
) -> dict[str, Any]:
    """Build index ``index_type`` (or 'auto') over descriptors [N, D] and write the map directory ``out``; returns
    map.json. ``thumbnails`` (one per place, at most ``thumbnail_width`` px wide) are stored when given.

    The directory appears complete or not at all (built beside ``out``, then renamed).
    """
    if len(descriptors) != len(places):
        raise ValueError(f"{len(descriptors)} descriptors for {len(places)} places")
    if thumbnails is not None and len(thumbnails) != len(places):
        raise ValueError(f"{len(thumbnails)} thumbnails for {len(places)} places")
    index, index_type, params = build_index(index_type, descriptors)
    info = {
        "format_version": MAP_FORMAT,
        "descriptor_dim": int(descriptors.shape[1]),
        "metric": METRIC,
        "model_sha256": model_sha256,
        "model": {k.removeprefix("vgssl."): v for k, v in model_metadata.items() if k.startswith("vgssl.")},
        "index": {"type": index_type, "params": params, "file": INDEX_FILE},
        "utm_zone": {"number": zone.number, "band": zone.band},
        "utm_origin": [float(v) for v in np.round(places.utm.mean(axis=0))],
        "place_count": len(places),
        "places_file": PLACES_FILE,
        "created": {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tool": "vgssl-map build",
            "host": platform.node(),
            "source": source,
        },
    }
    if thumbnails is not None:
        info["thumbnails"] = {"file": THUMBNAILS_FILE, "width": int(thumbnail_width)}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        faiss.write_index(index, str(tmp / INDEX_FILE))
        places.save(tmp / PLACES_FILE)
        if thumbnails is not None:
            thumbnails.save(tmp / THUMBNAILS_FILE)
        write_json_atomic(tmp / MAP_JSON, info)
    return info
