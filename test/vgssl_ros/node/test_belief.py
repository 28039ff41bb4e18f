"""/initialpose -> the filter's seed, and the pending belief change handed to the worker (no process, no DDS)."""

from __future__ import annotations

import numpy as np
import pytest
from geometry_msgs.msg import PoseWithCovarianceStamped

from test.vgssl_ros.core.test_filter import make_filter, world
from vgssl_ros.node.belief import BeliefRequests, describe, initial_pose

ORIGIN = np.array([450000.0, 7250000.0])


def pose(x: float, y: float, cov_xy: list[float], frame: str = "map") -> PoseWithCovarianceStamped:
    msg = PoseWithCovarianceStamped()
    msg.header.frame_id = frame
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    cov = np.zeros((6, 6))
    cov[:2, :2] = np.reshape(cov_xy, (2, 2))
    cov[5, 5] = float("nan")  # yaw is not used: its variance may be anything
    msg.pose.covariance = [float(v) for v in cov.reshape(-1)]
    return msg


def test_initial_pose_is_in_utm_with_the_xy_covariance():
    position, cov = initial_pose(pose(10.0, -20.0, [4.0, 1.0, 1.0, 9.0]), "map", ORIGIN)
    assert position == pytest.approx(ORIGIN + [10.0, -20.0]) and cov.tolist() == [[4.0, 1.0], [1.0, 9.0]]
    assert describe(position, np.diag([4.0, 9.0]), ORIGIN) == "(10.0, -20.0) m +- 3.0 m"


@pytest.mark.parametrize(
    "msg,reason",
    [
        (pose(0.0, 0.0, [1.0, 0.0, 0.0, 1.0], frame="odom"), "frame 'odom' refused: send it in map_frame 'map'"),
        (pose(0.0, 0.0, [1.0, 0.0, 0.0, 1.0], frame=""), "frame '' refused"),
        (pose(0.0, 0.0, [float("nan"), 0.0, 0.0, 1.0]), "is not finite"),
        (pose(float("inf"), 0.0, [1.0, 0.0, 0.0, 1.0]), "is not finite"),
    ],
)
def test_other_frames_and_non_finite_poses_are_refused(msg, reason):
    with pytest.raises(ValueError, match=reason):
        initial_pose(msg, "map", ORIGIN)


def test_the_newest_request_is_applied_once_by_the_worker():
    utm, desc = world(n=50)
    f = make_filter(utm, desc)
    requests = BeliefRequests()
    assert requests.apply(f) == ""
    requests.reset()
    requests.seed(utm[10], np.diag([1.0, 1.0]))  # replaces the unapplied reset
    assert requests.apply(f) == "belief seeded on 3 places"  # 10 m apart: within 3 sigma of the 5 m resolution
    assert sorted(f.belief.hyp.place.tolist()) == [9, 10, 11] and f.belief.hyp.place[np.argmax(f.belief.hyp.mass)] == 10
    assert requests.apply(f) == ""
    requests.reset()
    assert "re-acquires" in requests.apply(f) and len(f.belief.hyp) == 0 and f.belief.lost == 1.0
    requests.seed(utm[10], np.diag([-1.0, 1.0]))
    with pytest.raises(ValueError, match="positive semi-definite"):
        requests.apply(f)
