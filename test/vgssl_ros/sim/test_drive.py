"""Simulated drives: bags in both storages with the right topics, rates, stamps and GNSS noise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from test.conftest import REPO
from vgssl_ros.geo import latlon_to_utm
from vgssl_ros.sim import load_world
from vgssl_ros.sim.cli import main
from vgssl_ros.sim.dataset import split_range
from vgssl_ros.sim.drive import DriveSpec, gnss_noise


def _stamp(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


@pytest.mark.parametrize(("storage", "encoding"), [("sqlite3", "rgb8"), ("mcap", "bgr8")])
def test_drive_bag_topics_counts_and_stamps(tiny_world_dir, tmp_path, storage, encoding, capsys):
    bag = tmp_path / f"drive_{storage}"
    speed = 20.0
    assert (
        main(
            [
                "drive",
                "--world",
                str(tiny_world_dir),
                "--out",
                str(bag),
                "--storage",
                storage,
                "--speed",
                str(speed),
                "--compressed",
                "--encoding",
                encoding,
            ]
        )
        == 0
    )
    assert str(bag) in capsys.readouterr().out
    world, _ = load_world(tiny_world_dir)
    lo, hi = split_range(world, "test")
    n_images = int(np.ceil((hi - lo) / speed * 10.0))
    msgs: dict[str, list] = {}
    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        counts = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        for conn, t, raw in reader.messages():
            msgs.setdefault(conn.topic, []).append((t, reader.deserialize(raw, conn.msgtype)))
    assert counts == {
        "/camera/image_raw": ("sensor_msgs/msg/Image", n_images),
        "/camera/image_raw/compressed": ("sensor_msgs/msg/CompressedImage", n_images),
        "/gnss/fix": ("sensor_msgs/msg/NavSatFix", int(np.ceil((hi - lo) / speed * 5.0))),
        "/ground_truth/fix": ("sensor_msgs/msg/NavSatFix", n_images),
    }
    images = msgs["/camera/image_raw"]
    stamps = np.array([_stamp(m) for _, m in images])
    np.testing.assert_array_equal(np.diff(stamps), 100_000_000)  # 10 Hz
    assert stamps[0] == DriveSpec.start_ns
    assert all(t - _stamp(m) == DriveSpec.camera_latency_ns for t, m in images)  # received after capture
    assert (images[0][1].encoding, images[0][1].height, images[0][1].width) == (encoding, 48, 64)
    fixes = [m for _, m in msgs["/gnss/fix"]]
    np.testing.assert_array_equal(np.diff([_stamp(m) for m in fixes]), 200_000_000)  # 5 Hz
    assert fixes[0].position_covariance[0] == pytest.approx(DriveSpec.gnss_sigma_m**2)
    truth = [m for _, m in msgs["/ground_truth/fix"]]
    gt_utm, _ = latlon_to_utm(np.array([m.latitude for m in truth]), np.array([m.longitude for m in truth]), world.zone)
    gnss_utm, _ = latlon_to_utm(
        np.array([m.latitude for m in fixes]), np.array([m.longitude for m in fixes]), world.zone
    )
    err = np.linalg.norm(gnss_utm - gt_utm[::2], axis=1)
    assert 0.01 < err.max() < 15.0  # noisy, but metres not blocks
    assert np.linalg.norm(gt_utm[-1] - gt_utm[0]) > 0.5 * (hi - lo)  # it moved along the route


def test_gnss_noise_has_its_sigma_and_correlation():
    err = gnss_noise(40_000, 0.2, 2.0, 20.0, np.random.default_rng(0))
    np.testing.assert_allclose(err.std(axis=0), [2.0, 2.0, 4.0], rtol=0.2)
    lag1 = np.corrcoef(err[:-1, 0], err[1:, 0])[0, 1]
    assert lag1 == pytest.approx(np.exp(-0.2 / 20.0), abs=0.01)


def test_existing_bag_is_refused(tiny_world_dir, tmp_path, capsys):
    bag = tmp_path / "bag"
    bag.mkdir()
    assert main(["drive", "--world", str(tiny_world_dir), "--out", str(bag)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_drive_leaves_nothing(tiny_world_dir, tmp_path):
    bag = tmp_path / "drive"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vgssl_ros.sim",
            "drive",
            "--world",
            str(tiny_world_dir),
            "--out",
            str(bag),
            "--split",
            "all",
            "--speed",
            "1",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".drive.*.partial/drive/*.db3")):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the drive never started writing"
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not bag.exists()


def test_a_stop_holds_the_camera_still_then_the_drive_goes_on(tiny_world_dir, tmp_path, capsys):
    bag = tmp_path / "stop"
    assert (
        main(
            [
                "drive",
                "--world",
                str(tiny_world_dir),
                "--out",
                str(bag),
                "--speed",
                "20",
                "--stop",
                "10",
                "1.5",
                "--condition",
                "dusk",
            ]
        )
        == 0
    )
    world, _ = load_world(tiny_world_dir)
    lo, hi = split_range(world, "test")
    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        images = [
            reader.deserialize(raw, c.msgtype)
            for c, _, raw in reader.messages(
                connections=[c for c in reader.connections if c.topic == "/camera/image_raw"]
            )
        ]
        truth = [
            reader.deserialize(raw, c.msgtype)
            for c, _, raw in reader.messages(
                connections=[c for c in reader.connections if c.topic == "/ground_truth/fix"]
            )
        ]
    assert len(images) == len(truth) == int(np.ceil(((hi - lo) / 20.0 + 1.5) * 10.0))
    utm, _ = latlon_to_utm(np.array([m.latitude for m in truth]), np.array([m.longitude for m in truth]), world.zone)
    step = np.linalg.norm(np.diff(utm, axis=0), axis=1)
    still = np.flatnonzero(step < 1e-6)
    assert 14 <= len(still) <= 16 and np.all(np.diff(still) == 1)  # one stretch of 1.5 s at 10 Hz
    assert np.linalg.norm(utm[still[0]] - utm[0]) == pytest.approx(10.0, abs=2.5)  # 10 m in (plus lane jitter)
    assert np.median(step[step > 1e-6]) == pytest.approx(2.0, rel=0.1)  # 20 m/s at 10 Hz before and after

    def change(a, b) -> float:  # mean grey-level change once the per-frame sensor noise is blurred away
        blur = [
            cv2.GaussianBlur(np.frombuffer(m.data, np.uint8).reshape(m.height, m.width, 3), (7, 7), 0).astype(float)
            for m in (a, b)
        ]
        return float(np.abs(blur[0] - blur[1]).mean())

    moving = np.flatnonzero(step > 1e-6)[:5]
    # Standing: the same view, up to the sensor's per-frame noise; moving: the view changes much more.
    standing = max(change(images[i], images[i + 1]) for i in still[:-1])
    assert standing < 0.5 * min(change(images[i], images[i + 1]) for i in moving)
    capsys.readouterr()
    assert main(["drive", "--world", str(tiny_world_dir), "--out", str(tmp_path / "bad"), "--stop", "1e6", "2"]) == 2
    assert "stop" in capsys.readouterr().err and not (tmp_path / "bad").exists()
