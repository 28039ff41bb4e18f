"""Reading rosbag2 drives (sqlite3 and mcap) as frames with NavSatFix interpolated at image stamps."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from test.conftest import ORIGIN, ZONE, place_image
from vgssl_ros.bags import BagError, read_drive
from vgssl_ros.core import Map
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.mapping.cli import main

TS = get_typestore(Stores.ROS2_HUMBLE)
SPEED = 10.0  # m/s north
FIX_TIMES = [t for t in range(10, 21) if t != 15]  # 1 Hz; at t=15 the receiver reports NO_FIX
IMAGE_TIMES = np.arange(9.5, 21.0, 0.5)  # 2 Hz, starting before the first fix and ending after the last


def _header(t: float, frame: str):
    sec = int(t)
    return TS.types["std_msgs/msg/Header"](
        stamp=TS.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=int(round((t - sec) * 1e9))), frame_id=frame
    )


def _fix(t: float, status: int, std_m: float | None = None):
    lat, lon = utm_to_latlon(ORIGIN + [0.0, SPEED * (t - 10)], ZONE)[0]
    return TS.types["sensor_msgs/msg/NavSatFix"](
        header=_header(t, "gps"),
        status=TS.types["sensor_msgs/msg/NavSatStatus"](status=status, service=1),
        latitude=lat,
        longitude=lon,
        altitude=0.0,
        position_covariance=np.diag([std_m**2, std_m**2, 4 * std_m**2]).reshape(-1) if std_m else np.zeros(9),
        position_covariance_type=0 if std_m is None else 2,
    )


def _image(i: int, t: float, compressed: bool):
    rgb = place_image(i)
    if compressed:
        data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].reshape(-1)
        return TS.types["sensor_msgs/msg/CompressedImage"](header=_header(t, "cam"), format="png", data=data)
    h, w = rgb.shape[:2]
    step = 3 * w + 4  # row padding
    rows = np.zeros((h, step), np.uint8)
    rows[:, : 3 * w] = rgb[:, :, ::-1].reshape(h, -1)
    return TS.types["sensor_msgs/msg/Image"](
        header=_header(t, "cam"), height=h, width=w, encoding="bgr8", is_bigendian=0, step=step, data=rows.reshape(-1)
    )


def write_drive(path, storage: str = "sqlite3", compressed: bool = False):
    """A 10 s drive: fixes at 1 Hz with a NO_FIX at t=15 s, images at 2 Hz, log times out of order."""
    plugin = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}[storage]
    image_type = "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image"
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        cam = writer.add_connection("/cam/image", image_type, typestore=TS)
        gps = writer.add_connection("/gps/fix", "sensor_msgs/msg/NavSatFix", typestore=TS)
        for t in range(10, 21):
            msg = _fix(t, 0 if t in FIX_TIMES else -1)
            writer.write(gps, int(t * 1e9) + 5_000_000, TS.serialize_cdr(msg, msg.__msgtype__))
        for i, t in enumerate(IMAGE_TIMES):
            msg = _image(i, float(t), compressed)
            writer.write(cam, int(t * 1e9), TS.serialize_cdr(msg, msg.__msgtype__))
    return path


@pytest.mark.parametrize("storage,compressed", [("sqlite3", False), ("mcap", True)])
def test_frames_get_interpolated_fixes(tmp_path, storage, compressed):
    drive = read_drive(write_drive(tmp_path / "drive", storage, compressed), "/cam/image", "/gps/fix")
    frames = list(drive.frames())
    stamps = np.array([f.stamp for f in frames])
    expected = [t for t in IMAGE_TIMES if 10 <= t <= 20 and not 14 < t < 16]
    np.testing.assert_allclose(stamps, expected)
    # Around the NO_FIX at 15 s: no_fix; before the first and after the last fix: fix_gap.
    assert drive.skipped == {"no_fix": 3, "fix_gap": 2} and len(IMAGE_TIMES) - len(expected) == 5
    utm = np.stack([f.utm for f in frames])
    np.testing.assert_allclose(utm, ORIGIN + np.c_[np.zeros(len(expected)), SPEED * (stamps - 10)], atol=0.05)
    np.testing.assert_allclose(np.stack([f.latlon for f in frames]), utm_to_latlon(utm, ZONE), atol=1e-9)
    assert drive.track.zone == ZONE
    first = int(np.nonzero(np.isclose(IMAGE_TIMES, expected[0]))[0][0])
    np.testing.assert_array_equal(frames[0].load(), place_image(first))


def test_imprecise_fixes_are_left_out_and_named(tmp_path):
    """Fixes above max_std_m leave their frames without a position, counted as fix_std; none usable is an error."""
    path = tmp_path / "drive"
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        cam = writer.add_connection("/cam/image", "sensor_msgs/msg/Image", typestore=TS)
        gps = writer.add_connection("/gps/fix", "sensor_msgs/msg/NavSatFix", typestore=TS)
        for t in range(10, 21):
            msg = _fix(t, 0, std_m=20.0 if t == 15 else 1.0)
            writer.write(gps, int(t * 1e9), TS.serialize_cdr(msg, msg.__msgtype__))
        for i, t in enumerate(IMAGE_TIMES):
            msg = _image(i, float(t), False)
            writer.write(cam, int(t * 1e9), TS.serialize_cdr(msg, msg.__msgtype__))
    loose = read_drive(path, "/cam/image", "/gps/fix", max_std_m=50.0)
    assert len(list(loose.frames())) == len(IMAGE_TIMES) - 2 and loose.skipped == {"no_fix": 0, "fix_gap": 2}
    strict = read_drive(path, "/cam/image", "/gps/fix", max_std_m=5.0)
    assert len(list(strict.frames())) == len(IMAGE_TIMES) - 5
    assert strict.skipped == {"no_fix": 0, "fix_std": 3, "fix_gap": 2}
    assert strict.track.unknown_std == 0 and strict.track.rejected_reasons == ["fix_std"]
    assert abs((strict.track.heading_deg(12.0, 1.0) + 180) % 360 - 180) < 1e-3  # driving north
    with pytest.raises(BagError, match="0 with NO_FIX status, 11 with a horizontal standard deviation above 0.5 m"):
        read_drive(path, "/cam/image", "/gps/fix", max_std_m=0.5)


def test_missing_topics_name_what_the_bag_has(tmp_path):
    bag = write_drive(tmp_path / "drive")
    with pytest.raises(BagError, match=r"/camera/image_raw is missing.*Topics: /cam/image \(sensor_msgs/msg/Image\)"):
        read_drive(bag, "/camera/image_raw", "/gps/fix")
    with pytest.raises(BagError, match="has type sensor_msgs/msg/Image; --fix-topic"):
        read_drive(bag, "/cam/image", "/cam/image")
    with pytest.raises(BagError, match="does not exist"):
        read_drive(tmp_path / "nope", "/cam/image", "/gps/fix")
    (tmp_path / "junk").mkdir()
    with pytest.raises(BagError, match="cannot be read as a rosbag2"):
        read_drive(tmp_path / "junk", "/cam/image", "/gps/fix")


@pytest.mark.slow
def test_build_a_map_from_a_bag(tmp_path, onnx_model, capsys):
    bag = write_drive(tmp_path / "drive", "mcap")
    out = tmp_path / "map"
    assert (
        main(
            [
                "build",
                "--model",
                str(onnx_model),
                "--bag",
                str(bag),
                "--image-topic",
                "/cam/image",
                "--fix-topic",
                "/gps/fix",
                "--out",
                str(out),
                "--min-spacing",
                "9",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    m = Map.load(out)
    assert len(m.places) == 10  # one per whole second from 10 s to 20 s (10 m apart), none in the gap at 15 s
    assert "3 no fix, 2 fix gap" in printed and m.info["created"]["source"]["kind"] == "bag"
    assert np.isfinite(m.places.timestamp).all() and m.places.ids[0].startswith("/cam/image@")
    assert (
        main(
            [
                "build",
                "--model",
                str(onnx_model),
                "--bag",
                str(bag),
                "--image-topic",
                "/nope",
                "--fix-topic",
                "/gps/fix",
                "--out",
                str(tmp_path / "m2"),
            ]
        )
        == 2
    )
    assert "/nope is missing" in capsys.readouterr().err and not (tmp_path / "m2").exists()
