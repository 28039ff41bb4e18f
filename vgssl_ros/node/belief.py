"""/initialpose and ~/reset: changes to the temporal filter's belief, asked for by the executor thread and applied
by the frame worker before its next frame (the filter is only ever touched by the worker)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
from geometry_msgs.msg import PoseWithCovarianceStamped

from vgssl_ros.core.filter import PlaceFilter


def initial_pose(msg: PoseWithCovarianceStamped, map_frame: str, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position [2] UTM m, covariance [2, 2] m^2) of an /initialpose in ``map_frame`` (positions relative to the
    map's UTM ``origin`` [2]); ValueError with the reason when it must be refused."""
    frame = msg.header.frame_id
    if frame != map_frame:
        raise ValueError(f"initial pose in frame '{frame}' refused: send it in map_frame '{map_frame}'")
    p = msg.pose.pose.position
    position = np.array([p.x, p.y], dtype=np.float64)
    cov = np.asarray(msg.pose.covariance, dtype=np.float64).reshape(6, 6)[:2, :2]
    if not np.isfinite(position).all() or not np.isfinite(cov).all():
        raise ValueError(
            f"initial pose refused: position {position.tolist()} or x/y covariance {cov.tolist()} is not finite"
        )
    return position + origin, cov


def describe(position: np.ndarray, covariance: np.ndarray, origin: np.ndarray) -> str:
    """'(x, y) m +- s m' of a pose relative to ``origin`` [2], s the larger standard deviation."""
    xy = position - origin
    std = math.sqrt(max(float(np.linalg.eigvalsh(0.5 * (covariance + covariance.T)).max()), 0.0))
    return f"({xy[0]:.1f}, {xy[1]:.1f}) m +- {std:.1f} m"


class BeliefRequests:
    """The newest pending change to the filter's belief (a later request replaces an unapplied one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Callable[[PlaceFilter], str] | None = None

    def seed(self, position_utm: np.ndarray, covariance: np.ndarray) -> None:
        """Ask for the belief around ``position_utm`` [2] with ``covariance`` [2, 2] (PlaceFilter.seed_around)."""
        self._ask(lambda f: f"belief seeded on {f.seed_around(position_utm, covariance)} places")

    def reset(self) -> None:
        """Ask for "no idea where the robot is" (PlaceFilter.reset)."""

        def forget(f: PlaceFilter) -> str:
            f.reset()
            return "filter reset: it re-acquires from the images"

        self._ask(forget)

    def _ask(self, change: Callable[[PlaceFilter], str]) -> None:
        with self._lock:
            self._pending = change

    def apply(self, temporal_filter: PlaceFilter) -> str:
        """Apply the pending change (worker thread); what was done, '' if nothing was pending. ValueError (belief
        unchanged) for a covariance the filter refuses."""
        with self._lock:
            change, self._pending = self._pending, None
        return change(temporal_filter) if change is not None else ""
