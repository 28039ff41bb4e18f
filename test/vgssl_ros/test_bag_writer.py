"""DriveBagWriter: bags rosbags reads back in both storages, complete or absent."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from vgssl_ros.bags import STORAGES, DriveBagWriter, DriveTopics

START_NS = 1_700_000_000_123_000_000


def _frame(k: int) -> np.ndarray:
    rng = np.random.default_rng(k)
    return cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (32, 24), interpolation=cv2.INTER_NEAREST)


def _read(path: Path) -> dict[str, list[tuple[int, object]]]:
    out: dict[str, list[tuple[int, object]]] = {}
    with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        for conn, t, raw in reader.messages():
            out.setdefault(conn.topic, []).append((t, reader.deserialize(raw, conn.msgtype)))
    out["types"] = types
    return out


@pytest.mark.parametrize("storage", list(STORAGES))
@pytest.mark.parametrize("encoding", ["rgb8", "bgr8"])
def test_drive_reads_back_in_both_storages(tmp_path, storage, encoding):
    path = tmp_path / f"drive_{storage}"
    topics = DriveTopics(compressed="/camera/image_raw/compressed")
    with DriveBagWriter(path, storage, topics, encoding=encoding) as bag:
        for k in range(4):
            stamp = START_NS + k * 100_000_000
            bag.write_image(stamp, _frame(k), receive_ns=stamp + 5_000_000)
            if k % 2 == 0:
                bag.write_fix(stamp, 48.78 + k * 1e-5, 9.18, 245.0, (4.0, 4.0, 16.0), receive_ns=stamp + 30_000_000)
    assert bag.counts == {"/camera/image_raw": 4, "/camera/image_raw/compressed": 4, "/gnss/fix": 2}
    msgs = _read(path)
    assert msgs["types"] == {
        "/camera/image_raw": "sensor_msgs/msg/Image",
        "/camera/image_raw/compressed": "sensor_msgs/msg/CompressedImage",
        "/gnss/fix": "sensor_msgs/msg/NavSatFix",
    }
    for k, (t, img) in enumerate(msgs["/camera/image_raw"]):
        stamp = img.header.stamp.sec * 1_000_000_000 + img.header.stamp.nanosec
        assert stamp == START_NS + k * 100_000_000 and t == stamp + 5_000_000
        assert (img.encoding, img.height, img.width, img.step, img.header.frame_id) == (encoding, 24, 32, 96, "camera")
        pixels = np.asarray(img.data).reshape(24, 32, 3)
        np.testing.assert_array_equal(pixels if encoding == "rgb8" else pixels[..., ::-1], _frame(k))
    _, jpeg = msgs["/camera/image_raw/compressed"][1]
    decoded = cv2.cvtColor(cv2.imdecode(np.asarray(jpeg.data), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert jpeg.format == "jpeg" and np.abs(decoded.astype(int) - _frame(1)).mean() < 20
    t, fix = msgs["/gnss/fix"][1]
    assert t == START_NS + 200_000_000 + 30_000_000 and fix.header.frame_id == "gnss"
    assert fix.latitude == pytest.approx(48.78002) and fix.altitude == 245.0
    assert fix.position_covariance_type == fix.COVARIANCE_TYPE_DIAGONAL_KNOWN
    np.testing.assert_array_equal(fix.position_covariance[[0, 4, 8]], [4.0, 4.0, 16.0])
    assert fix.status.status == fix.status.STATUS_FIX


def test_existing_path_is_refused_untouched(tmp_path):
    path = tmp_path / "bag"
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="already exists"):
        with DriveBagWriter(path) as bag:
            bag.write_image(START_NS, _frame(0))
    assert (path / "keep.txt").read_text() == "mine"


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "bag"
    with pytest.raises(ValueError, match="uint8"):
        with DriveBagWriter(path, "mcap") as bag:
            bag.write_image(START_NS, _frame(0))
            bag.write_image(START_NS + 1, _frame(1).astype(np.float32))
    assert list(tmp_path.iterdir()) == []


def test_bad_options_name_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid storages: sqlite3, mcap"):
        DriveBagWriter(tmp_path / "b", "rosbag1")
    with pytest.raises(ValueError, match="valid encodings: rgb8, bgr8"):
        DriveBagWriter(tmp_path / "b", encoding="mono8")
