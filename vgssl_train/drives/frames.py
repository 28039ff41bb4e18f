"""One recorded drive as kept frames: each image paired with the fix at its stamp (the map builder's pairing),
one frame per ``min_spacing_m`` metres travelled, stored as JPEGs in a scratch folder."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vgssl_ros.bags import BagFrame, DriveTopics, read_drive
from vgssl_ros.datasets import resize_rgb
from vgssl_ros.geo import UtmZone
from vgssl_ros.io.progress import Progress
from vgssl_ros.mapping.sources import GeoFrame, keep_spaced


@dataclass(frozen=True)
class DriveOptions:
    """How frames are read from each drive and stored: topics, fix limits, spacing and JPEG size.

    ``size`` (H, W) resizes every image exactly; ``max_side`` only shrinks images whose longer side exceeds it."""

    image_topic: str = DriveTopics.image
    fix_topic: str = DriveTopics.fix
    max_fix_gap_s: float = 1.0
    max_fix_std_m: float = 5.0
    min_spacing_m: float = 2.0
    size: tuple[int, int] | None = None
    max_side: int | None = None
    jpeg_quality: int = 90


@dataclass
class DriveFrames:
    """The kept frames of one drive: ``stamps`` [N] s, ``utm`` [N, 2] m in ``zone``, ``latlon`` [N, 2] deg,
    ``heading`` [N] compass deg or NaN, ``files`` [N] scratch JPEGs; ``images`` messages read, ``skipped`` by reason."""

    path: Path
    zone: UtmZone
    stamps: np.ndarray
    utm: np.ndarray
    latlon: np.ndarray
    heading: np.ndarray
    files: list[Path]
    images: int
    skipped: dict[str, int] = field(default_factory=dict)
    fixes_without_covariance: int = 0


def read_drive_frames(bag: str | Path, scratch: Path, options: DriveOptions, quiet: bool = False) -> DriveFrames:
    """Read ``bag``, keep one frame per ``options.min_spacing_m`` metres and write each as ``scratch/NNNNNNN.jpg``.

    Frames without a usable fix, with a header stamp not after the previous frame's, or closer than the spacing to
    the last kept frame are skipped and counted by reason; BagError/ValueError say what to fix when none is left."""
    bag = Path(bag)
    drive = read_drive(bag, options.image_topic, options.fix_topic, options.max_fix_gap_s, options.max_fix_std_m)
    total = drive.image_count
    scratch.mkdir(parents=True)
    skipped = drive.skipped
    rows: list[tuple[float, np.ndarray, np.ndarray, float]] = []
    files: list[Path] = []
    progress = Progress(f"frames of {bag.name}", "frame", total=total, quiet=quiet)
    with progress:
        frames = _in_stamp_order(drive.frames(), skipped)
        geo = (_geo_frame(f) for f in _counted(frames, skipped, progress))
        for frame in keep_spaced(geo, options.min_spacing_m, skipped):
            files.append(scratch / f"{len(files):07d}.jpg")
            _write_jpeg(files[-1], _shrink(frame.load(), options.size, options.max_side), options.jpeg_quality)
            heading = drive.track.heading_deg(frame.timestamp, options.max_fix_gap_s)
            rows.append((frame.timestamp, frame.utm, frame.latlon, heading))
        progress.update(total - progress.count)
    if not rows:
        track = drive.track.stamps
        raise ValueError(
            f"{bag}: none of its {total} images on {options.image_topic} has a usable position (skipped: "
            f"{_nonzero(skipped)}); its fixes span {track[0]:.1f}..{track[-1]:.1f} s: check that camera and GNSS "
            f"stamp their headers with the same clock, or loosen --max-fix-gap / --max-fix-std"
        )
    out_of_order = skipped.get("stamp_order", 0)
    if out_of_order > len(rows) + skipped.get("spacing", 0):
        raise ValueError(
            f"{bag}: {out_of_order} of {total} images have a header stamp not after the image before them (a camera "
            f"clock that jumps back?); re-stamp the images in capture order before making a dataset"
        )
    stamps, utm, latlon, heading = (np.array([r[k] for r in rows], dtype=np.float64) for k in range(4))
    return DriveFrames(
        bag,
        drive.track.zone,
        stamps,
        utm.reshape(-1, 2),
        latlon.reshape(-1, 2),
        heading,
        files,
        total,
        _nonzero(skipped),
        drive.track.unknown_std,
    )


def _in_stamp_order(frames: Iterable[BagFrame], skipped: dict[str, int]) -> Iterator[BagFrame]:
    """Frames whose stamp is later than every stamp before; the others are counted as ``stamp_order``."""
    last = -np.inf
    skipped["stamp_order"] = 0
    for frame in frames:
        if frame.stamp <= last:
            skipped["stamp_order"] += 1
            continue
        last = frame.stamp
        yield frame


def _counted(frames: Iterable[BagFrame], skipped: dict[str, int], progress: Progress) -> Iterator[BagFrame]:
    """Pass ``frames`` through, showing every image read so far (kept or skipped) on ``progress``."""
    done = 0
    for frame in frames:
        done += 1
        progress.update(done + sum(skipped.values()) - skipped.get("spacing", 0) - progress.count)
        yield frame


def _geo_frame(frame: BagFrame) -> GeoFrame:
    """The map builder's GeoFrame of a bag frame (heading unknown until the frame is kept)."""
    return GeoFrame(frame.utm, frame.latlon, float("nan"), frame.stamp, f"{frame.stamp:.9f}", frame.load)


def _shrink(rgb: np.ndarray, size: tuple[int, int] | None, max_side: int | None) -> np.ndarray:
    """uint8 RGB [H, W, 3] resized to ``size`` (H, W), or shrunk so its longer side is at most ``max_side``."""
    if size is not None:
        return resize_rgb(rgb, *size)
    if max_side is not None and max(rgb.shape[:2]) > max_side:
        scale = max_side / max(rgb.shape[:2])
        return resize_rgb(rgb, max(1, round(rgb.shape[0] * scale)), max(1, round(rgb.shape[1] * scale)))
    return rgb


def _write_jpeg(path: Path, rgb: np.ndarray, quality: int) -> None:
    """Write uint8 RGB [H, W, 3] as a JPEG of ``quality``."""
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f"cannot write {path}; check the output folder's disk space and permissions")


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}
