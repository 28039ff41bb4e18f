"""Answers -> ROS messages: what ~/fix and ~/pose carry (no process, no DDS)."""

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import NavSatStatus

from vgssl_ros.core.answer import Answer
from vgssl_ros.geo import UtmZone, latlon_to_utm
from vgssl_ros.node.messages import UNKNOWN_VARIANCE, navsatfix, pose_with_covariance

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
