"""Camera poses along the route: the lane centre plus a condition's lateral offset and yaw jitter."""

from __future__ import annotations

import cv2
import numpy as np

from vgssl_ros.sim.conditions import Condition
from vgssl_ros.sim.world import World


def _noise(n: int, sigma: float, rng: np.random.Generator, smooth: float) -> np.ndarray:
    """[n] zero-mean noise with standard deviation ``sigma``; ``smooth`` > 0 low-passes it over that many samples."""
    white = rng.normal(0.0, 1.0, n)
    if smooth <= 0 or n < 2:
        return sigma * white
    k = int(4 * smooth) | 1
    low = cv2.GaussianBlur(white.reshape(1, -1), (k, 1), smooth, borderType=cv2.BORDER_REFLECT).reshape(-1)
    return sigma * low / max(float(low.std()), 1e-9)


def camera_poses(
    world: World, s: np.ndarray, condition: Condition, rng: np.random.Generator, smooth: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Camera positions [N, 2] (local metres) and headings [N] (radians) at route arclengths ``s`` [N].

    Each pose is shifted sideways by N(0, lateral_m) and yawed by N(0, yaw_deg). ``smooth`` > 0 makes
    the offsets vary slowly over that many samples, as a driven car does; 0 draws them independently.
    """
    s = np.asarray(s, np.float64).reshape(-1)
    xy, heading = world.pose_at(s)
    lateral = np.clip(_noise(len(s), condition.lateral_m, rng, smooth), -5.0, 5.0)
    yaw = np.radians(np.clip(_noise(len(s), condition.yaw_deg, rng, smooth), -30.0, 30.0))
    left = np.stack([-np.sin(heading), np.cos(heading)], axis=1)
    return xy + lateral[:, None] * left, heading + yaw


def compass_deg(heading: np.ndarray) -> np.ndarray:
    """Headings [N] in radians CCW from east to compass degrees [N] (clockwise from north, 0..360)."""
    return np.mod(90.0 - np.degrees(heading), 360.0)
