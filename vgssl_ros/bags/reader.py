"""Read a rosbag2 drive (sqlite3 or mcap) as camera frames with positions from NavSatFix.

Each image gets the fix interpolated (in UTM) at its header stamp; images outside the fix track, or
in a gap between fixes longer than ``max_gap_s``, get no position and are counted by reason, not guessed:
``no_fix`` (the receiver reported NO_FIX there), ``fix_std`` (its fixes there were less precise than
``max_std_m``) or ``fix_gap`` (no fix close enough in time).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from vgssl_ros.core.decode import decode_compressed, decode_image
from vgssl_ros.geo import UtmZone, latlon_to_utm, utm_to_latlon

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
FIX_TYPE = "sensor_msgs/msg/NavSatFix"
STATUS_NO_FIX = -1
MISSING_REASONS = ("no_fix", "fix_std", "fix_gap")
"""Why a frame has no position (see FixTrack.why_missing)."""


class BagError(ValueError):
    """A bag is missing, unreadable, or lacks the topics asked for."""


@dataclass
class BagFrame:
    """One camera frame with its interpolated position; ``load()`` decodes it to uint8 RGB [H, W, 3]."""

    stamp: float
    utm: np.ndarray
    latlon: np.ndarray
    load: Callable[[], np.ndarray]


@dataclass
class FixTrack:
    """NavSatFix messages with a fix: ``stamps`` [M] s (sorted), ``utm`` [M, 2] in ``zone``.

    ``rejected_stamps`` [R] s (sorted) are the fix messages left out, ``rejected_reasons`` [R] why ("no_fix" or
    "fix_std"); ``unknown_std`` counts kept fixes whose covariance was unknown (not checked against a limit).
    """

    stamps: np.ndarray
    utm: np.ndarray
    zone: UtmZone
    rejected_stamps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rejected_reasons: list[str] = field(default_factory=list)
    unknown_std: int = 0
    latlon: np.ndarray | None = None
    """[M, 2] degrees of the fixes (None: converted from ``utm``)."""

    def __post_init__(self) -> None:
        if self.latlon is None:
            self.latlon = utm_to_latlon(self.utm, self.zone)

    def at(self, stamp: float, max_gap_s: float) -> np.ndarray | None:
        """Position [2] linearly interpolated at ``stamp``, or None outside the track or across a gap."""
        found = self.position(stamp, max_gap_s)
        return None if found is None else found[0]

    def position(self, stamp: float, max_gap_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        """UTM [2] and lat/lon [2] linearly interpolated at ``stamp`` (lat/lon between fixes under ``max_gap_s``
        apart is linear to well under a millimetre), or None outside the track or across a gap."""
        i = int(np.searchsorted(self.stamps, stamp))
        if i < len(self.stamps) and self.stamps[i] == stamp:
            return self.utm[i], self.latlon[i]
        if i == 0 or i == len(self.stamps) or self.stamps[i] - self.stamps[i - 1] > max_gap_s:
            return None
        w = (stamp - self.stamps[i - 1]) / (self.stamps[i] - self.stamps[i - 1])
        return (1 - w) * self.utm[i - 1] + w * self.utm[i], (1 - w) * self.latlon[i - 1] + w * self.latlon[i]

    def why_missing(self, stamp: float) -> str:
        """Why ``at(stamp)`` gave no position: the reason of the rejected fix nearest ``stamp`` between the two
        kept fixes around it ("no_fix", "fix_std"), else "fix_gap" (kept fixes too far apart, or none on one side)."""
        i = int(np.searchsorted(self.stamps, stamp))
        lo = self.stamps[i - 1] if i > 0 else -np.inf
        hi = self.stamps[i] if i < len(self.stamps) else np.inf
        inside = np.flatnonzero((self.rejected_stamps > lo) & (self.rejected_stamps < hi))
        if len(inside) == 0:
            return "fix_gap"
        return self.rejected_reasons[inside[np.argmin(np.abs(self.rejected_stamps[inside] - stamp))]]

    def heading_deg(self, stamp: float, max_gap_s: float, half_window_s: float = 1.0, min_move_m: float = 2.0) -> float:
        """Direction of travel at ``stamp`` in compass degrees (clockwise from north, 0..360) from the track
        ``half_window_s`` either side (one side at the track's ends); NaN where the track is missing or moved less
        than ``min_move_m``."""
        here = self.at(stamp, max_gap_s)
        before = self.at(stamp - half_window_s, max_gap_s)
        after = self.at(stamp + half_window_s, max_gap_s)
        before = here if before is None else before
        after = here if after is None else after
        if before is None or after is None:
            return float("nan")
        east, north = after - before
        if np.hypot(east, north) < min_move_m:
            return float("nan")
        return float(np.degrees(np.arctan2(east, north)) % 360.0)


@dataclass
class BagDrive:
    """A drive: the fix track and a lazy pass over the frames; ``skipped`` counts frames with no position by
    reason ("no_fix" always present; "fix_gap" and "fix_std" once they occur)."""

    path: Path
    image_topic: str
    fix_topic: str
    track: FixTrack
    max_gap_s: float = 1.0
    skipped: dict[str, int] = field(default_factory=lambda: {"no_fix": 0})
    image_count: int = 0
    """Messages on ``image_topic`` (from the bag's metadata; 0 where it does not say)."""

    def frames(self) -> Iterator[BagFrame]:
        """Frames in bag order with positions; frames without a position are skipped and counted by reason."""
        for reason in MISSING_REASONS:
            self.skipped.pop(reason, None)
        self.skipped["no_fix"] = 0
        with open_bag(self.path) as reader:
            conns = [c for c in reader.connections if c.topic == self.image_topic]
            for conn, _, raw in reader.messages(connections=conns):
                stamp = header_stamp(raw)
                found = self.track.position(stamp, self.max_gap_s)
                if found is None:
                    reason = self.track.why_missing(stamp)
                    self.skipped[reason] = self.skipped.get(reason, 0) + 1
                    continue
                yield BagFrame(stamp, found[0], found[1], _loader(reader, raw, conn.msgtype))


def read_drive(
    path: str | Path, image_topic: str, fix_topic: str, max_gap_s: float = 1.0, max_std_m: float = float("inf")
) -> BagDrive:
    """Open the rosbag2 at ``path`` and read the fix track of ``fix_topic``; frames come from ``image_topic``.

    Fixes with NO_FIX status, or whose reported horizontal standard deviation exceeds ``max_std_m`` metres, are left
    out of the track (fixes with unknown covariance are kept)."""
    path = Path(path)
    with open_bag(path) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        _check_topic(path, topics, image_topic, IMAGE_TYPES, "--image-topic")
        _check_topic(path, topics, fix_topic, (FIX_TYPE,), "--fix-topic")
        image_count = sum(c.msgcount for c in reader.connections if c.topic == image_topic)
        rows, rejected, unknown_std = [], [], 0
        for conn, _, raw in reader.messages(connections=[c for c in reader.connections if c.topic == fix_topic]):
            fix = reader.deserialize(raw, conn.msgtype)
            stamp = fix.header.stamp.sec + 1e-9 * fix.header.stamp.nanosec
            std = horizontal_std_m(fix)
            if not (fix.status.status > STATUS_NO_FIX and np.isfinite([fix.latitude, fix.longitude]).all()):
                rejected.append((stamp, "no_fix"))
            elif std > max_std_m:
                rejected.append((stamp, "fix_std"))
            else:
                rows.append((stamp, fix.latitude, fix.longitude))
                unknown_std += int(np.isnan(std))
    if not rows:
        counts = {r: sum(1 for _, why in rejected if why == r) for r in ("no_fix", "fix_std")}
        raise BagError(
            f"{path}: topic {fix_topic} has no usable NavSatFix ({counts['no_fix']} with NO_FIX status, "
            f"{counts['fix_std']} with a horizontal standard deviation above {max_std_m:g} m); positions are "
            f"needed: record the drive with GNSS (or raise the standard-deviation limit)"
        )
    fixes = np.array(sorted(rows))
    utm, zone = latlon_to_utm(fixes[:, 1], fixes[:, 2])
    rejected.sort()
    rejected_stamps = np.array([t for t, _ in rejected])
    track = FixTrack(fixes[:, 0], utm, zone, rejected_stamps, [why for _, why in rejected], unknown_std, fixes[:, 1:3])
    return BagDrive(path, image_topic, fix_topic, track, max_gap_s, image_count=image_count)


def horizontal_std_m(fix) -> float:
    """The larger of a NavSatFix's east and north standard deviations in metres; NaN when its covariance is
    unknown (COVARIANCE_TYPE_UNKNOWN) or not finite."""
    if fix.position_covariance_type == 0:
        return float("nan")
    variance = max(float(fix.position_covariance[0]), float(fix.position_covariance[4]))
    return float(np.sqrt(variance)) if np.isfinite(variance) and variance >= 0 else float("nan")


@contextmanager
def open_bag(path: Path) -> Iterator[AnyReader]:
    """An opened rosbags AnyReader on ``path``; BagError (not a traceback) for a missing or damaged bag."""
    if not path.exists():
        raise BagError(f"bag {path} does not exist; pass a rosbag2 directory (sqlite3 or mcap)")
    try:
        reader = AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE))
        reader.open()
    except Exception as exc:  # rosbags raises several reader errors for foreign or damaged files
        raise BagError(f"{path} cannot be read as a rosbag2 drive ({type(exc).__name__}: {exc})") from None
    try:
        yield reader
    finally:
        reader.close()


def _check_topic(path: Path, topics: dict[str, str], topic: str, types: tuple[str, ...], option: str) -> None:
    if topics.get(topic) not in types:
        found = ", ".join(f"{t} ({m})" for t, m in sorted(topics.items())) or "none"
        what = "is missing" if topic not in topics else f"has type {topics[topic]}"
        raise BagError(f"{path}: topic {topic} {what}; {option} needs one of {', '.join(types)}. Topics: {found}")


def header_stamp(raw: bytes | memoryview) -> float:
    """The header stamp (s) of a CDR-serialised message that starts with std_msgs/Header (Image, CompressedImage,
    NavSatFix), read from its first bytes without deserialising the rest (the pixels)."""
    if len(raw) < 12:
        raise BagError(f"a message of {len(raw)} bytes is too short for a CDR message with a header")
    sec, nanosec = struct.unpack_from("<iI" if raw[1] == 1 else ">iI", raw, 4)  # byte 1: 1 = little-endian CDR
    return sec + 1e-9 * nanosec


def _loader(reader: AnyReader, raw: bytes | memoryview, msgtype: str) -> Callable[[], np.ndarray]:
    """Deserialise and decode the image message ``raw`` when called (frames that are skipped never are); works
    after the reader is closed (it keeps the reader's typestore, which closing replaces)."""
    typestore = reader.typestore

    def load() -> np.ndarray:
        msg = typestore.deserialize_cdr(raw, msgtype)
        if msgtype == "sensor_msgs/msg/CompressedImage":
            return decode_compressed(msg.format, msg.data)
        return decode_image(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian), msg.data)

    return load
