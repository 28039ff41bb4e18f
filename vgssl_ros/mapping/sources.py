"""Where map images come from: a VPR-layout folder, a CSV manifest or a rosbag2 drive, as GeoFrames."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.bags import read_drive
from vgssl_ros.datasets import DatasetError, GeoImages, load_rgb, read_csv_manifest, read_vpr_folder
from vgssl_ros.geo import UtmZone


@dataclass
class GeoFrame:
    """One map image: ``utm`` [2] m, ``latlon`` [2] deg, heading deg/NaN, timestamp s/NaN, id; ``load()`` -> RGB."""

    utm: np.ndarray
    latlon: np.ndarray
    heading: float
    timestamp: float
    id: str
    load: Callable[[], np.ndarray]


@dataclass
class FrameSource:
    """Frames of one UTM zone, read lazily; ``skipped`` is filled while ``frames`` is consumed."""

    zone: UtmZone
    frames: Iterable[GeoFrame]
    description: dict[str, Any]
    skipped: dict[str, int] = field(default_factory=dict)


def geo_images_source(images: GeoImages, description: dict[str, Any]) -> FrameSource:
    """Frames from GeoImages (files decoded when loaded)."""
    frames = (
        GeoFrame(
            images.utm[i],
            images.latlon[i],
            float(images.heading[i]),
            float(images.timestamp[i]),
            images.ids[i],
            partial(load_rgb, images.paths[i]),
        )
        for i in range(len(images))
    )
    return FrameSource(images.zone, frames, description)


def folder_source(folder: str | Path) -> FrameSource:
    """A folder of VPR-layout images (a split's database folder, or any folder of @east@north@... files)."""
    refuse_dataset_tree(folder)
    return geo_images_source(read_vpr_folder(folder), {"kind": "images", "path": str(folder)})


def refuse_dataset_tree(folder: str | Path) -> None:
    """Raise DatasetError when ``folder`` holds a VPR dataset's database/ and queries/ folders (a dataset root, its
    images/ folder or a split): a map built from all of it would mix the splits' database and query images."""
    folder = Path(folder)
    databases = sorted(
        db
        for pattern in ("database", "*/database", "*/*/database")
        for db in folder.glob(pattern)
        if db.is_dir() and (db.parent / "queries").is_dir()
    )
    if databases:
        choices = ", ".join(db.as_posix() for db in databases)
        raise DatasetError(
            f"{folder.as_posix()} is a VPR dataset (database and queries folders), not one set of map images; "
            f"build the map from one split's database: {choices}"
        )


def csv_source(path: str | Path) -> FrameSource:
    """A CSV manifest (image path + lat/lon or UTM columns)."""
    return geo_images_source(read_csv_manifest(path), {"kind": "csv", "path": str(path)})


def bag_source(path: str | Path, image_topic: str, fix_topic: str, max_gap_s: float = 1.0) -> FrameSource:
    """A rosbag2 drive: each image with the NavSatFix interpolated at its stamp; frames without a fix skipped."""
    drive = read_drive(path, image_topic, fix_topic, max_gap_s)
    frames = (
        GeoFrame(f.utm, f.latlon, float("nan"), f.stamp, f"{image_topic}@{f.stamp:.9f}", f.load) for f in drive.frames()
    )
    description = {"kind": "bag", "path": str(path), "image_topic": image_topic, "fix_topic": fix_topic}
    return FrameSource(drive.track.zone, frames, description, drive.skipped)


def keep_spaced(frames: Iterable[GeoFrame], min_spacing_m: float, skipped: dict[str, int]) -> Iterator[GeoFrame]:
    """Keep a frame when it lies >= ``min_spacing_m`` from the last kept one (0 keeps all); counts the rest."""
    last = None
    skipped.setdefault("spacing", 0)
    for frame in frames:
        if last is not None and min_spacing_m > 0 and np.hypot(*(frame.utm - last)) < min_spacing_m:
            skipped["spacing"] += 1
            continue
        last = frame.utm
        yield frame
