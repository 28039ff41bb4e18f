"""Every publisher of the localizer node, created in one place: lifecycle publishers, silent unless active."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray, PoseWithCovarianceStamped
from rclpy.lifecycle import LifecycleNode
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, NavSatFix

from vgssl_ros.core.localizer import FrameResult, LocalizerCore
from vgssl_ros.core.places import Places
from vgssl_ros.node import messages
from vgssl_ros.node.debug_image import DebugImagePublisher

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""~/map_places: published once, kept for late-joining subscribers (RViz: Durability Policy 'Transient Local')."""


class Outputs:
    """~/fix, ~/pose, ~/candidates, ~/map_places, ~/debug_image and /diagnostics of ``node``, in ``frame_id``
    relative to ``core``'s map's UTM origin (its zone for the fix)."""

    def __init__(self, node: LifecycleNode, core: LocalizerCore, frame_id: str) -> None:
        self.node, self.frame_id = node, frame_id
        self.origin: np.ndarray = core.map.origin
        self.zone = core.map.zone
        self.fix = node.create_lifecycle_publisher(NavSatFix, "~/fix", 10)
        self.pose = node.create_lifecycle_publisher(PoseWithCovarianceStamped, "~/pose", 10)
        self.candidates = node.create_lifecycle_publisher(PoseArray, "~/candidates", 10)
        self.map_places = node.create_lifecycle_publisher(PoseArray, "~/map_places", LATCHED)
        self.diagnostics = node.create_lifecycle_publisher(DiagnosticArray, "/diagnostics", 10)
        self.debug_image = DebugImagePublisher(node.create_lifecycle_publisher(Image, "~/debug_image", 1), core)

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
        debug = self.debug_image.publisher
        for publisher in (self.fix, self.pose, self.candidates, self.map_places, self.diagnostics, debug):
            self.node.destroy_lifecycle_publisher(publisher)
