"""Every publisher of the localizer node, created in one place: lifecycle publishers, silent unless active."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray, PoseWithCovarianceStamped
from rclpy.lifecycle import LifecycleNode
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import NavSatFix

from vgssl_ros.core.localizer import FrameResult
from vgssl_ros.core.places import Places
from vgssl_ros.geo import UtmZone
from vgssl_ros.node import messages

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""~/map_places: published once, kept for late-joining subscribers (RViz: Durability Policy 'Transient Local')."""


class Outputs:
    """~/fix, ~/pose, ~/candidates, ~/map_places and /diagnostics of ``node``, in ``frame_id`` relative to the map's
    UTM ``origin`` [2] (``zone`` for the fix)."""

    def __init__(self, node: LifecycleNode, frame_id: str, origin: np.ndarray, zone: UtmZone) -> None:
        self.node, self.frame_id, self.origin, self.zone = node, frame_id, origin, zone
        self.fix = node.create_lifecycle_publisher(NavSatFix, "~/fix", 10)
        self.pose = node.create_lifecycle_publisher(PoseWithCovarianceStamped, "~/pose", 10)
        self.candidates = node.create_lifecycle_publisher(PoseArray, "~/candidates", 10)
        self.map_places = node.create_lifecycle_publisher(PoseArray, "~/map_places", LATCHED)
        self.diagnostics = node.create_lifecycle_publisher(DiagnosticArray, "/diagnostics", 10)

    def frame(self, stamp: Time, result: FrameResult) -> None:
        """One frame's answer (stamped with the image's ``stamp``) and its single-frame candidates."""
        answer = result.answer  # the filtered answer when the filter is on
        self.fix.publish(messages.navsatfix(answer, self.zone, stamp, self.frame_id))
        self.pose.publish(messages.pose_with_covariance(answer, self.origin, stamp, self.frame_id))
        self.candidates.publish(
            messages.place_poses(result.candidate_utm, result.candidate_heading_deg, self.origin, stamp, self.frame_id)
        )

    def places(self, places: Places, stamp: Time) -> None:
        """Every place of the map on the latched ~/map_places."""
        self.map_places.publish(messages.place_poses(places.utm, places.heading, self.origin, stamp, self.frame_id))

    def destroy(self) -> None:
        """Remove every publisher from the graph (cleanup)."""
        for publisher in (self.fix, self.pose, self.candidates, self.map_places, self.diagnostics):
            self.node.destroy_lifecycle_publisher(publisher)
