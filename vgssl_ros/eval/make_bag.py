"""Turn a geo-tagged image sequence (in route order) into a rosbag2 drive: Image + NavSatFix topics."""

from __future__ import annotations

from pathlib import Path

from vgssl_ros.bags import DriveBagWriter, DriveTopics
from vgssl_ros.datasets import GeoImages, load_rgb
from vgssl_ros.io.progress import Progress

START_NS = 1_700_000_000 * 10**9
"""Stamp of the first frame (2023-11-14 22:13:20 UTC); frames follow at 1/rate."""


def images_to_bag(
    images: GeoImages,
    out: str | Path,
    rate_hz: float = 10.0,
    storage: str = "sqlite3",
    topics: DriveTopics = DriveTopics(),
    fix_std_m: float = 0.5,
    progress: bool = True,
) -> int:
    """Write ``images`` in order as a drive at ``rate_hz``: one Image and one NavSatFix (its position) per frame.

    Returns the number of frames. The bag is complete or absent (DriveBagWriter stages and renames).
    """
    if rate_hz <= 0:
        raise ValueError(f"rate must be > 0 Hz, got {rate_hz}")
    if len(images) == 0:
        raise ValueError("no images to write")
    period_ns = int(round(1e9 / rate_hz))
    with DriveBagWriter(out, storage=storage, topics=topics) as writer:
        for i in Progress("writing", "frames", len(images), quiet=not progress).wrap(range(len(images))):
            stamp = START_NS + i * period_ns
            writer.write_image(stamp, load_rgb(images.paths[i]))
            lat, lon = images.latlon[i]
            writer.write_fix(stamp, lat, lon, 0.0, (fix_std_m**2, fix_std_m**2, (2 * fix_std_m) ** 2))
    return len(images)
