"""Answers -> ROS messages (NavSatFix, PoseWithCovarianceStamped, PoseArray, DiagnosticArray)."""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Pose, PoseArray, PoseWithCovarianceStamped
from sensor_msgs.msg import NavSatFix, NavSatStatus
from std_msgs.msg import Header

from vgssl_ros.core.answer import Answer
from vgssl_ros.core.localizer import FrameResult
from vgssl_ros.geo import UtmZone, utm_to_latlon

UNKNOWN_VARIANCE = 1e6
"""Variance for what the localizer does not observe (altitude, roll, pitch, unknown yaw)."""
NANOSEC_PER_SEC = 1_000_000_000


def stamp_seconds(stamp: Time) -> float | None:
    """A header stamp in seconds; None when it is not a time (nanosec >= 1e9): the frame is then unstamped."""
    if stamp.nanosec >= NANOSEC_PER_SEC:
        return None
    return float(stamp.sec + 1e-9 * stamp.nanosec)


def yaw_quaternion(heading_deg: float) -> tuple[float, float, float, float]:
    """Compass heading (deg, clockwise from north) -> ENU yaw quaternion (x, y, z, w); identity for NaN."""
    if not math.isfinite(heading_deg):
        return 0.0, 0.0, 0.0, 1.0
    yaw = math.radians(90.0 - heading_deg)
    return 0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)


def navsatfix(answer: Answer, zone: UtmZone, stamp: Time, frame_id: str) -> NavSatFix:
    """The answer as a fix; STATUS_NO_FIX when rejected. Covariance ENU, approximated."""
    msg = NavSatFix(header=Header(stamp=stamp, frame_id=frame_id))
    lat, lon = utm_to_latlon(answer.position[None], zone)[0]
    msg.latitude, msg.longitude, msg.altitude = float(lat), float(lon), float("nan")
    msg.status = NavSatStatus(
        status=NavSatStatus.STATUS_FIX if answer.accepted else NavSatStatus.STATUS_NO_FIX, service=0
    )
    cov = np.zeros((3, 3))
    cov[:2, :2] = answer.covariance
    cov[2, 2] = UNKNOWN_VARIANCE
    msg.position_covariance = [float(v) for v in cov.reshape(-1)]
    msg.position_covariance_type = NavSatFix.COVARIANCE_TYPE_APPROXIMATED
    return msg


def _pose(xy: np.ndarray, heading_deg: float) -> Pose:
    p = Pose()
    p.position.x, p.position.y, p.position.z = float(xy[0]), float(xy[1]), 0.0
    p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w = yaw_quaternion(heading_deg)
    return p


def pose_with_covariance(
    answer: Answer, origin: np.ndarray, stamp: Time, frame_id: str, yaw_std_deg: float = 30.0
) -> PoseWithCovarianceStamped:
    """The answer relative to the map's UTM ``origin`` [2]; yaw from its place's heading when known."""
    heading_deg = answer.heading_deg
    msg = PoseWithCovarianceStamped(header=Header(stamp=stamp, frame_id=frame_id))
    msg.pose.pose = _pose(answer.position - origin, heading_deg)
    cov = np.diag(
        [
            0.0,
            0.0,
            UNKNOWN_VARIANCE,
            UNKNOWN_VARIANCE,
            UNKNOWN_VARIANCE,
            math.radians(yaw_std_deg) ** 2 if math.isfinite(heading_deg) else UNKNOWN_VARIANCE,
        ]
    )
    cov[:2, :2] = answer.covariance
    msg.pose.covariance = [float(v) for v in cov.reshape(-1)]
    return msg


def place_poses(
    places_utm: np.ndarray, headings: np.ndarray, origin: np.ndarray, stamp: Time, frame_id: str
) -> PoseArray:
    """Places [K, 2] UTM with headings [K] (deg) as poses relative to ``origin`` (~/candidates best first,
    ~/map_places every place of the map)."""
    msg = PoseArray(header=Header(stamp=stamp, frame_id=frame_id))
    msg.poses = [_pose(xy - origin, float(h)) for xy, h in zip(places_utm, headings)]
    return msg


def diagnostics(
    name: str, hardware_id: str, stats: dict[str, float], extra: dict[str, str], stamp: Time, level: bytes, message: str
) -> DiagnosticArray:
    """One DiagnosticStatus with every counter, rate and latency as key/values."""
    values = [KeyValue(key=k, value=f"{v:.2f}" if isinstance(v, float) else str(v)) for k, v in stats.items()]
    values += [KeyValue(key=k, value=str(v)) for k, v in extra.items()]
    status = DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id, values=values)
    return DiagnosticArray(header=Header(stamp=stamp), status=[status])


def filter_values(enabled: bool, result: FrameResult | None) -> dict[str, str]:
    """Diagnostics key/values of the temporal filter after ``result`` (the last FrameResult, or None)."""
    if not enabled or result is None or result.filtered is None:
        return {"filter": "waiting for a frame" if enabled else "off"}
    state = result.filtered
    return {
        "filter": str(state.status),
        "filter_confidence": f"{state.confidence:.3f}",
        "filter_probability": f"{result.answer.probability:.3f}",
        "filter_lost_mass": f"{state.lost_mass:.3f}",
        "filter_support": str(state.support),
        "filter_frames": str(state.frames),
        "filter_motion": f"{state.motion:.2f}",
    }
