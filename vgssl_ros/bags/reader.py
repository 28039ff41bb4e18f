"""Read a rosbag2 drive (sqlite3 or mcap) as camera frames with positions from NavSatFix.

Each image gets the fix interpolated (in UTM) at its header stamp; images outside the fix track, or
in a gap between fixes longer than ``max_gap_s``, get no position and are counted, not guessed.
"""

from __future__ import annotations

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
    """NavSatFix messages with a fix: ``stamps`` [M] s (sorted), ``utm`` [M, 2] in ``zone``."""

    stamps: np.ndarray
    utm: np.ndarray
    zone: UtmZone

    def at(self, stamp: float, max_gap_s: float) -> np.ndarray | None:
        """Position [2] linearly interpolated at ``stamp``, or None outside the track or across a gap."""
        i = int(np.searchsorted(self.stamps, stamp))
        if i < len(self.stamps) and self.stamps[i] == stamp:
            return self.utm[i]
        if i == 0 or i == len(self.stamps) or self.stamps[i] - self.stamps[i - 1] > max_gap_s:
            return None
        w = (stamp - self.stamps[i - 1]) / (self.stamps[i] - self.stamps[i - 1])
        return (1 - w) * self.utm[i - 1] + w * self.utm[i]


@dataclass
class BagDrive:
    """A drive: the fix track and a lazy pass over the frames; ``skipped`` counts frames with no fix."""

    path: Path
    image_topic: str
    fix_topic: str
    track: FixTrack
    max_gap_s: float = 1.0
    skipped: dict[str, int] = field(default_factory=lambda: {"no_fix": 0})

    def frames(self) -> Iterator[BagFrame]:
        """Frames in bag order with positions; frames without a fix are skipped and counted."""
        self.skipped["no_fix"] = 0
        with open_bag(self.path) as reader:
            conns = [c for c in reader.connections if c.topic == self.image_topic]
            for conn, _, raw in reader.messages(connections=conns):
                msg = reader.deserialize(raw, conn.msgtype)
                stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
                utm = self.track.at(stamp, self.max_gap_s)
                if utm is None:
                    self.skipped["no_fix"] += 1
                    continue
                latlon = utm_to_latlon(utm[None], self.track.zone)[0]
                yield BagFrame(stamp, utm, latlon, _loader(msg, conn.msgtype))


def read_drive(path: str | Path, image_topic: str, fix_topic: str, max_gap_s: float = 1.0) -> BagDrive:
    """Open the rosbag2 at ``path`` and read the fix track of ``fix_topic``; frames come from ``image_topic``."""
    path = Path(path)
    with open_bag(path) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        _check_topic(path, topics, image_topic, IMAGE_TYPES, "--image-topic")
        _check_topic(path, topics, fix_topic, (FIX_TYPE,), "--fix-topic")
        rows = []
        for conn, _, raw in reader.messages(connections=[c for c in reader.connections if c.topic == fix_topic]):
            fix = reader.deserialize(raw, conn.msgtype)
            if fix.status.status > STATUS_NO_FIX and np.isfinite([fix.latitude, fix.longitude]).all():
                rows.append((fix.header.stamp.sec + 1e-9 * fix.header.stamp.nanosec, fix.latitude, fix.longitude))
    if not rows:
        raise BagError(
            f"{path}: topic {fix_topic} has no NavSatFix with a fix (status > STATUS_NO_FIX); "
            f"a map needs positions: record the drive with GNSS"
        )
    fixes = np.array(sorted(rows))
    utm, zone = latlon_to_utm(fixes[:, 1], fixes[:, 2])
    return BagDrive(path, image_topic, fix_topic, FixTrack(fixes[:, 0], utm, zone), max_gap_s)


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


def _loader(msg, msgtype: str) -> Callable[[], np.ndarray]:
    if msgtype == "sensor_msgs/msg/CompressedImage":
        return lambda: decode_compressed(msg.format, msg.data)
    return lambda: decode_image(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian), msg.data)
