"""Writing drives as rosbag2 (sqlite3 or mcap): camera images and NavSatFix, complete or absent."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np
from rosbags.interfaces import Connection
from rosbags.rosbag2 import Writer
from rosbags.rosbag2.enums import StoragePlugin
from rosbags.typesys import Stores, get_typestore

from vgssl_ros.io import staging_dir

STORAGES: dict[str, StoragePlugin] = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
ENCODINGS = ("rgb8", "bgr8")
IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
FIX_TYPE = "sensor_msgs/msg/NavSatFix"


@dataclass(frozen=True)
class DriveTopics:
    """Topic names and frame ids of a drive; ``compressed`` None writes no CompressedImage topic."""

    image: str = "/camera/image_raw"
    compressed: str | None = None
    fix: str = "/gnss/fix"
    camera_frame: str = "camera"
    gnss_frame: str = "gnss"


class DriveBagWriter:
    """A rosbag2 drive written in a hidden staging folder and renamed onto ``path`` only on success.

    Use as a context manager; ``path`` must not exist. A failure or a killed process leaves no
    bag at ``path`` (at most a hidden ``.NAME.PID.*.partial`` folder beside it, removed by the next write of
    ``path`` once that process is gone).
    """

    def __init__(
        self,
        path: str | Path,
        storage: str = "sqlite3",
        topics: DriveTopics = DriveTopics(),
        encoding: str = "rgb8",
        jpeg_quality: int = 90,
    ):
        if storage not in STORAGES:
            raise ValueError(f"unknown bag storage {storage!r}; valid storages: {', '.join(STORAGES)}")
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown image encoding {encoding!r}; valid encodings: {', '.join(ENCODINGS)}")
        self.path, self.storage, self.topics = Path(path), storage, topics
        self.encoding, self.jpeg_quality = encoding, jpeg_quality
        self.typestore = get_typestore(Stores.ROS2_HUMBLE)
        self._staging: Path | None = None
        self._writer: Writer | None = None
        self._connections: dict[str, Connection] = {}
        self.counts: dict[str, int] = {}

    def __enter__(self) -> DriveBagWriter:
        if self.path.exists():
            raise FileExistsError(f"{self.path} already exists; choose another output or remove it first")
        self._staging = staging_dir(self.path)
        self._writer = Writer(self._staging / self.path.name, version=9, storage_plugin=STORAGES[self.storage])
        self._writer.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                self._writer.close()
                os.replace(self._staging / self.path.name, self.path)
            else:
                self._writer.abort()
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._writer = None

    def _write(self, topic: str, msgtype: str, msg: object, receive_ns: int) -> None:
        if self._writer is None:
            raise RuntimeError("DriveBagWriter is not open; use it as a context manager")
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(topic, msgtype, typestore=self.typestore)
        self._writer.write(self._connections[topic], int(receive_ns), self.typestore.serialize_cdr(msg, msgtype))
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def _header(self, stamp_ns: int, frame_id: str) -> object:
        t = self.typestore.types
        sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
        return t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame_id
        )

    def write_image(self, stamp_ns: int, rgb: np.ndarray, receive_ns: int | None = None) -> None:
        """Write an RGB uint8 [H, W, 3] frame captured at ``stamp_ns`` (and its JPEG, if configured).

        ``receive_ns`` is the bag (log) time, defaulting to the capture stamp.
        """
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"images must be uint8 [H, W, 3] RGB, got {rgb.dtype} {rgb.shape}")
        receive_ns = stamp_ns if receive_ns is None else receive_ns
        header = self._header(stamp_ns, self.topics.camera_frame)
        pixels = rgb if self.encoding == "rgb8" else rgb[..., ::-1]
        h, w = rgb.shape[:2]
        msg = self.typestore.types[IMAGE_TYPE](
            header=header,
            height=h,
            width=w,
            encoding=self.encoding,
            is_bigendian=0,
            step=3 * w,
            data=np.ascontiguousarray(pixels).reshape(-1),
        )
        self._write(self.topics.image, IMAGE_TYPE, msg, receive_ns)
        if self.topics.compressed:
            ok, jpeg = cv2.imencode(
                ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
            )
            if not ok:
                raise ValueError("JPEG encoding failed")
            msg = self.typestore.types[COMPRESSED_TYPE](header=header, format="jpeg", data=jpeg.reshape(-1))
            self._write(self.topics.compressed, COMPRESSED_TYPE, msg, receive_ns)

    def write_fix(
        self,
        stamp_ns: int,
        lat: float,
        lon: float,
        alt: float,
        variance_enu_m2: tuple[float, float, float],
        receive_ns: int | None = None,
        topic: str | None = None,
        frame_id: str | None = None,
    ) -> None:
        """Write a NavSatFix (GPS fix, diagonal covariance known) to ``topic`` (default: the fix topic)."""
        t = self.typestore.types
        fix_t = t[FIX_TYPE]
        status_t = t["sensor_msgs/msg/NavSatStatus"]
        cov = np.zeros(9)
        cov[[0, 4, 8]] = variance_enu_m2
        msg = fix_t(
            header=self._header(stamp_ns, frame_id or self.topics.gnss_frame),
            status=status_t(status=status_t.STATUS_FIX, service=status_t.SERVICE_GPS),
            latitude=float(lat),
            longitude=float(lon),
            altitude=float(alt),
            position_covariance=cov,
            position_covariance_type=fix_t.COVARIANCE_TYPE_DIAGONAL_KNOWN,
        )
        self._write(topic or self.topics.fix, FIX_TYPE, msg, stamp_ns if receive_ns is None else receive_ns)
