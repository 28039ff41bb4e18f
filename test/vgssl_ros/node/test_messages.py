"""Answers -> ROS messages: what ~/fix and ~/pose carry (no process, no DDS)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import NavSatFix, NavSatStatus

from vgssl_ros.core.answer import Answer
from vgssl_ros.geo import UtmZone, latlon_to_utm
from vgssl_ros.node.messages import (
    UNKNOWN_VARIANCE,
    diagnostics,
    filter_values,
    navsatfix,
    place_poses,
    pose_with_covariance,
    stamp_seconds,
    yaw_quaternion,
)

COV = np.array([[16.0, 3.0], [3.0, 25.0]])


def _answer(accepted: bool = True, heading_deg: float = 90.0) -> Answer:
    return Answer(np.array([500_100.0, 7_000_200.0]), COV, accepted, "", 0.9, 3, heading_deg, "single")


def test_pose_covariance_carries_the_answer_xy_block_and_unknowns():
    msg = pose_with_covariance(_answer(), np.array([500_000.0, 7_000_000.0]), Time(sec=5), "map")
    cov = np.array(msg.pose.covariance).reshape(6, 6)
    assert np.allclose(cov[:2, :2], COV)
    assert np.allclose(np.diag(cov)[2:5], UNKNOWN_VARIANCE)
    assert cov[5, 5] == pytest.approx(math.radians(30.0) ** 2)
    assert (msg.pose.pose.position.x, msg.pose.pose.position.y) == (100.0, 200.0)
    unknown_yaw = pose_with_covariance(_answer(heading_deg=float("nan")), np.zeros(2), Time(sec=5), "map")
    assert unknown_yaw.pose.covariance[35] == UNKNOWN_VARIANCE


def test_fix_carries_position_covariance_and_status():
    zone = UtmZone(33, "W")
    msg = navsatfix(_answer(), zone, Time(sec=5), "gps")
    cov = np.array(msg.position_covariance).reshape(3, 3)
    assert np.allclose(cov[:2, :2], COV) and cov[2, 2] == UNKNOWN_VARIANCE
    assert msg.status.status == NavSatStatus.STATUS_FIX
    east, north = latlon_to_utm(np.array([msg.latitude]), np.array([msg.longitude]), zone)[0][0]
    assert np.allclose([east, north], [500_100.0, 7_000_200.0], atol=1e-3)
    assert navsatfix(_answer(accepted=False), zone, Time(sec=5), "gps").status.status == NavSatStatus.STATUS_NO_FIX


@pytest.mark.parametrize(("heading", "yaw_deg"), [(0.0, 90.0), (90.0, 0.0), (180.0, -90.0), (45.0, 45.0)])
def test_compass_heading_becomes_an_enu_yaw_quaternion(heading, yaw_deg):
    x, y, z, w = yaw_quaternion(heading)
    assert (x, y) == (0.0, 0.0)
    assert z == pytest.approx(math.sin(math.radians(yaw_deg) / 2)) and w == pytest.approx(
        math.cos(math.radians(yaw_deg) / 2)
    )


def test_unknown_heading_is_the_identity_quaternion():
    assert yaw_quaternion(float("nan")) == (0.0, 0.0, 0.0, 1.0)
    assert yaw_quaternion(float("inf")) == (0.0, 0.0, 0.0, 1.0)


def test_headers_carry_stamp_and_frame():
    stamp = Time(sec=12, nanosec=345)
    fix = navsatfix(_answer(), UtmZone(33, "W"), stamp, "gps")
    pose = pose_with_covariance(_answer(heading_deg=45.0), np.array([500_000.0, 7_000_000.0]), stamp, "map")
    for msg, frame in ((fix, "gps"), (pose, "map")):
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (12, 345, frame)
    assert math.isnan(fix.altitude) and fix.status.service == 0
    assert fix.position_covariance_type == NavSatFix.COVARIANCE_TYPE_APPROXIMATED
    assert pose.pose.pose.position.z == 0.0
    q = pose.pose.pose.orientation
    assert (q.x, q.y, q.z, q.w) == pytest.approx(yaw_quaternion(45.0))
    cov = np.array(pose.pose.covariance).reshape(6, 6)
    assert np.count_nonzero(cov - np.diag(np.diag(cov))) == 2  # only the x/y covariance is off the diagonal


def test_place_poses_are_relative_to_the_origin_best_first():
    utm = np.array([[500_010.0, 7_000_020.0], [500_030.0, 7_000_040.0]])
    msg = place_poses(utm, np.array([90.0, float("nan")]), np.array([500_000.0, 7_000_000.0]), Time(sec=3), "map")
    assert (msg.header.stamp.sec, msg.header.frame_id) == (3, "map")
    assert [(p.position.x, p.position.y, p.position.z) for p in msg.poses] == [(10.0, 20.0, 0.0), (30.0, 40.0, 0.0)]
    q0, q1 = msg.poses[0].orientation, msg.poses[1].orientation
    assert (q0.z, q0.w) == pytest.approx((0.0, 1.0)) and (q1.x, q1.y, q1.z, q1.w) == (0.0, 0.0, 0.0, 1.0)


def test_diagnostics_hold_every_value_formatted():
    msg = diagnostics(
        "localizer", "cpu0", {"rate_hz": 9.876, "frames": 12}, {"filter": "tracking"}, Time(sec=4), b"\x01", "slow"
    )
    assert msg.header.stamp.sec == 4 and len(msg.status) == 1
    status = msg.status[0]
    assert (status.name, status.hardware_id, status.message, status.level) == ("localizer", "cpu0", "slow", b"\x01")
    assert [(kv.key, kv.value) for kv in status.values] == [
        ("rate_hz", "9.88"),
        ("frames", "12"),
        ("filter", "tracking"),
    ]


def test_filter_values_say_off_waiting_or_the_state():
    assert filter_values(False, None) == {"filter": "off"}
    assert filter_values(True, None) == {"filter": "waiting for a frame"}
    assert filter_values(True, SimpleNamespace(filtered=None)) == {"filter": "waiting for a frame"}
    state = SimpleNamespace(status="tracking", confidence=0.91234, lost_mass=0.05, support=17, frames=30, motion=0.5)
    result = SimpleNamespace(filtered=state, answer=SimpleNamespace(probability=0.8))
    assert filter_values(True, result) == {
        "filter": "tracking",
        "filter_confidence": "0.912",
        "filter_probability": "0.800",
        "filter_lost_mass": "0.050",
        "filter_support": "17",
        "filter_frames": "30",
        "filter_motion": "0.50",
    }


def test_a_stamp_whose_nanosec_is_1e9_or_more_is_not_a_time():
    # Fuzz campaign (issue 16): Time(sec, 4e9) read as sec + 4 s froze the filter (every later frame out of order).
    assert stamp_seconds(Time(sec=12, nanosec=500_000_000)) == 12.5
    assert stamp_seconds(Time(sec=-3, nanosec=999_999_999)) == pytest.approx(-2.000000001)
    assert stamp_seconds(Time(sec=0, nanosec=0)) == 0.0
    for nanosec in (1_000_000_000, 2_500_000_000, 2**32 - 1):
        assert stamp_seconds(Time(sec=12, nanosec=nanosec)) is None
