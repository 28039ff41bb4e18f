"""LocalizerCore: decode -> embed -> search -> estimate for one frame, without rclpy.

The node and `vgssl-eval` both run frames through this class, so what is scored offline is what
the robot runs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from vgssl_ros.core.decode import decode_compressed, decode_image
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.errors import DecodeError
from vgssl_ros.core.estimate import Estimate, EstimatorConfig, estimate_position
from vgssl_ros.core.map import Map


@dataclass(frozen=True)
class FrameResult:
    """One frame's outcome: the estimate, the top-K ``candidates`` [K] place indices and
    ``similarities`` [K], and the compute time split (ms) into decode and embed+search+estimate."""

    estimate: Estimate
    candidates: np.ndarray
    similarities: np.ndarray
    decode_ms: float
    infer_ms: float


class LocalizerCore:
    """Holds the embedder, the map and the estimator settings; ``localize_*`` handle one frame each."""

    def __init__(self, embedder: Embedder, geo_map: Map, top_k: int = 10, config: EstimatorConfig | None = None,
                 max_pixels: int = 1 << 24) -> None:
        if embedder.dim != geo_map.dim:
            raise ValueError(f"model gives {embedder.dim}-d descriptors, map {geo_map.path} holds {geo_map.dim}-d")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.embedder, self.map, self.top_k = embedder, geo_map, int(top_k)
        self.config = config or EstimatorConfig()
        self.max_pixels = int(max_pixels)

    def localize_rgb(self, rgb: np.ndarray) -> FrameResult:
        """Localize one uint8 RGB image [H, W, 3]."""
        return self._localize(rgb, 0.0)

    def localize_image(self, encoding: str, height: int, width: int, step: int, is_bigendian: bool, data) -> FrameResult:
        """Localize a sensor_msgs/Image given by its fields; raises DecodeError for a bad message."""
        self._check_size(int(height), int(width))
        t0 = time.perf_counter()
        rgb = decode_image(encoding, height, width, step, is_bigendian, data)
        return self._localize(rgb, (time.perf_counter() - t0) * 1e3)

    def localize_compressed(self, fmt: str, data) -> FrameResult:
        """Localize a sensor_msgs/CompressedImage given by its fields."""
        t0 = time.perf_counter()
        rgb = decode_compressed(fmt, data)
        self._check_size(*rgb.shape[:2])
        return self._localize(rgb, (time.perf_counter() - t0) * 1e3)

    def _check_size(self, height: int, width: int) -> None:
        if height * width > self.max_pixels:
            raise DecodeError(f"image {width}x{height} has more than max_pixels={self.max_pixels} pixels")

    def _localize(self, rgb: np.ndarray, decode_ms: float) -> FrameResult:
        t0 = time.perf_counter()
        descriptor = self.embedder.embed([rgb])
        sims, idx = self.map.search(descriptor, self.top_k)
        estimate = estimate_position(sims[0], idx[0], self.map.places.utm, self.config)
        return FrameResult(estimate, idx[0], sims[0], decode_ms, (time.perf_counter() - t0) * 1e3)
