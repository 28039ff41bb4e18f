"""A forward-looking pinhole camera on a car: intrinsics and world-to-image projection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """Pinhole camera ``width`` x ``height`` pixels, horizontal field of view ``hfov_deg``,
    mounted ``mount_m`` above the road, optical axis level."""

    width: int = 320
    height: int = 240
    hfov_deg: float = 80.0
    mount_m: float = 2.0

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16:
            raise ValueError(f"camera image must be at least 16x16 pixels, got {self.width}x{self.height}")
        if not 10.0 <= self.hfov_deg <= 150.0:
            raise ValueError(f"horizontal field of view must be 10..150 degrees, got {self.hfov_deg}")

    @property
    def focal(self) -> float:
        """Focal length in pixels (square pixels)."""
        return 0.5 * self.width / np.tan(np.radians(self.hfov_deg) / 2)

    def to_camera(self, points: np.ndarray, xy: np.ndarray, heading: float) -> np.ndarray:
        """World points [..., 3] (x east, y north, z up) to camera coordinates [..., 3] (right, down, forward)."""
        d = np.asarray(points, np.float64) - np.array([xy[0], xy[1], self.mount_m])
        c, s = np.cos(heading), np.sin(heading)
        return np.stack([d[..., 0] * s - d[..., 1] * c, -d[..., 2], d[..., 0] * c + d[..., 1] * s], axis=-1)

    def project(self, cam: np.ndarray) -> np.ndarray:
        """Camera coordinates [..., 3] with positive depth to pixel coordinates [..., 2]."""
        f = self.focal
        return np.stack(
            [self.width / 2 + f * cam[..., 0] / cam[..., 2], self.height / 2 + f * cam[..., 1] / cam[..., 2]], axis=-1
        )
