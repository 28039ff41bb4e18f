"""The localizer node with the temporal filter and a calibration file, over real DDS."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from test.conftest import REPO
from test.vgssl_ros.node.conftest import node_output
from test.vgssl_ros.node.test_localizer_node import query, true_utm
from vgssl_ros.core.calibration import Calibration, ScoreCalibration
from vgssl_ros.geo import latlon_to_utm


@pytest.mark.slow
def test_filtered_fix_pose_and_diagnostics(start_localizer, client, localizer_assets, tmp_path):
    from vgssl_ros.core.map import Map

    calib = tmp_path / "calibration.json"
    Calibration(ScoreCalibration((0.0, 1.0), (0.0, 1.0), 1.0), ScoreCalibration((0.0, 1.0), (0.1, 0.9), 4.0)).save(
        calib
    )
    proc = start_localizer(f"calibration:={calib}")  # the filter is on by default
    client.wait_ready(proc)
    geo_map = Map.load(localizer_assets["map"])
    stamps = [(10, 0), (11, 0), (12, 0), (13, 0), (5, 0)]  # the last one goes back in time: ignored by the filter
    for i, (place, stamp) in enumerate(zip((2, 3, 4, 5, 9), stamps)):
        client.image_pub.publish(client.image(query(place), stamp))
        assert client.spin_until(lambda i=i: min(len(client.got[k]) for k in ("fix", "candidates")) > i, 20), (
            node_output(proc)
        )
    fixes = client.got["fix"]
    for fix in fixes:
        assert all(math.isfinite(v) for v in (fix.latitude, fix.longitude, *fix.position_covariance[:2]))
    last_in_order = fixes[3]
    en, _ = latlon_to_utm(np.array([last_in_order.latitude]), np.array([last_in_order.longitude]), geo_map.zone)
    assert np.linalg.norm(en[0] - true_utm(5)) < 25.0 and last_in_order.status.status == 0
    assert last_in_order.position_covariance[0] >= 4.0 * 25.0  # filtered covariance x 4 (calibration), 5 m floor
    # Out of order: the filter keeps its state (place 5 although the frame shows place 9), and the stale answer
    # is published as rejected, never as a fresh fix.
    en, _ = latlon_to_utm(np.array([fixes[4].latitude]), np.array([fixes[4].longitude]), geo_map.zone)
    assert np.linalg.norm(en[0] - true_utm(5)) < 25.0 and fixes[4].status.status == -1
    candidates = client.got["candidates"][4]
    first = np.array([candidates.poses[0].position.x, candidates.poses[0].position.y]) + geo_map.origin
    assert np.linalg.norm(first - true_utm(9)) < 25.0  # ~/candidates stay single-frame
    assert client.spin_until(lambda: client.diagnostic_values().get("processed") == "5", 5)
    values = client.diagnostic_values()
    assert values["filter"] == "out_of_order" and int(values["filter_frames"]) == 4
    assert 0.0 <= float(values["filter_motion"]) <= 1.0
    assert 0.1 <= float(values["filter_probability"]) <= 0.9


@pytest.mark.slow
def test_bad_calibration_file_is_a_clear_start_up_error(localizer_assets, ros_env, tmp_path):
    bad = tmp_path / "calibration.json"
    bad.write_text("not json")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "-p",
            f"model:={localizer_assets['model']}",
            "-p",
            f"map:={localizer_assets['map']}",
            "-p",
            f"calibration:={bad}",
        ],
        cwd=REPO,
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "vgssl-eval --calibrate" in proc.stderr and "Traceback" not in proc.stderr
