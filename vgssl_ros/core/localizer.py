"""LocalizerCore: decode -> embed -> search -> estimate for one frame, without rclpy.

The node and `vgssl-eval` both run frames through this class, so what is scored offline is what
the robot runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from vgssl_ros.core.calibration import Calibration
from vgssl_ros.core.decode import decode_compressed, decode_image
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.errors import DecodeError
from vgssl_ros.core.estimate import Estimate, EstimatorConfig, estimate_position
from vgssl_ros.core.filter import FilterState, PlaceFilter
from vgssl_ros.core.filter.output import filtered_estimate
from vgssl_ros.core.map import Map


@dataclass(frozen=True)
class FrameResult:
    """One frame's outcome: the single-frame estimate, the top-K ``candidates`` [K] place indices and
    ``similarities`` [K], and the compute time split (ms) into decode and embed+search+estimate.

    With a temporal filter: ``filtered`` (its state) and ``output`` (the filtered estimate, which the node
    publishes); without, ``output`` is ``estimate``. ``probability``: calibrated probability that ``output``
    is correct (the raw score or confidence when there is no calibration).
    """

    estimate: Estimate
    candidates: np.ndarray
    similarities: np.ndarray
    decode_ms: float
    infer_ms: float
    filtered: FilterState | None = None
    output: Estimate | None = None
    probability: float = float("nan")


class LocalizerCore:
    """Holds the embedder, the map and the estimator settings; ``localize_*`` handle one frame each."""

    def __init__(
        self,
        embedder: Embedder,
        geo_map: Map,
        top_k: int = 10,
        config: EstimatorConfig | None = None,
        max_pixels: int = 1 << 24,
        temporal_filter: PlaceFilter | None = None,
        calibration: Calibration | None = None,
        min_probability: float = 0.0,
    ) -> None:
        if embedder.dim != geo_map.dim:
            raise ValueError(f"model gives {embedder.dim}-d descriptors, map {geo_map.path} holds {geo_map.dim}-d")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.embedder, self.map, self.top_k = embedder, geo_map, int(top_k)
        self.config = config or EstimatorConfig()
        self.max_pixels = int(max_pixels)
        if temporal_filter is not None and temporal_filter.places != len(geo_map.places):
            raise ValueError(
                f"the filter covers {temporal_filter.places} places, map {geo_map.path} has {len(geo_map.places)}"
            )
        self.filter, self.calibration, self.min_probability = temporal_filter, calibration, float(min_probability)

    def localize_rgb(self, rgb: np.ndarray, stamp_s: float | None = None) -> FrameResult:
        """Localize one uint8 RGB image [H, W, 3]; ``stamp_s`` orders frames for the temporal filter."""
        return self._localize(rgb, 0.0, stamp_s)

    def localize_image(
        self, encoding: str, height: int, width: int, step: int, is_bigendian: bool, data, stamp_s: float | None = None
    ) -> FrameResult:
        """Localize a sensor_msgs/Image given by its fields; raises DecodeError for a bad message."""
        self._check_size(int(height), int(width))
        t0 = time.perf_counter()
        rgb = decode_image(encoding, height, width, step, is_bigendian, data)
        return self._localize(rgb, (time.perf_counter() - t0) * 1e3, stamp_s)

    def localize_compressed(self, fmt: str, data, stamp_s: float | None = None) -> FrameResult:
        """Localize a sensor_msgs/CompressedImage given by its fields."""
        t0 = time.perf_counter()
        rgb = decode_compressed(fmt, data, max_pixels=self.max_pixels)
        self._check_size(*rgb.shape[:2])
        return self._localize(rgb, (time.perf_counter() - t0) * 1e3, stamp_s)

    def probability(self, mode: str, score: float) -> float:
        """Calibrated probability that an answer of ``mode`` ('single': top-1 similarity, 'filtered':
        confidence) with this ``score`` is correct; the score itself (clipped to [0, 1]) without calibration."""
        calib = self.calibration.for_mode(mode) if self.calibration else None
        return calib.probability(score) if calib else float(np.clip(score, 0.0, 1.0)) if np.isfinite(score) else 0.0

    def _check_size(self, height: int, width: int) -> None:
        if height * width > self.max_pixels:
            raise DecodeError(f"image {width}x{height} has more than max_pixels={self.max_pixels} pixels")

    def _localize(self, rgb: np.ndarray, decode_ms: float, stamp_s: float | None) -> FrameResult:
        t0 = time.perf_counter()
        descriptor = self.embedder.embed([rgb])
        k = max(self.top_k, self.filter.config.seed_k) if self.filter else self.top_k
        sims, idx = self.map.search(descriptor, k)
        sims, idx = sims[0], idx[0]
        estimate = estimate_position(sims[: self.top_k], idx[: self.top_k], self.map.places.utm, self.config)
        probability, filtered, output = self.probability("single", estimate.top1_similarity), None, estimate
        if self.calibration:
            output = replace(estimate, covariance=estimate.covariance * self.calibration.single.covariance_scale)
        if self.filter is not None:
            filtered = self.filter.step(descriptor[0], idx, stamp_s, self.top_k)
            calib = self.calibration.filtered if self.calibration else None
            probability = self.probability("filtered", filtered.confidence)
            output = filtered_estimate(
                filtered,
                probability,
                calib.covariance_scale if calib else 1.0,
                self.min_probability,
                self.config.min_std_m,
            )
        return FrameResult(
            estimate,
            idx[: self.top_k],
            sims[: self.top_k],
            decode_ms,
            (time.perf_counter() - t0) * 1e3,
            filtered,
            output,
            float(probability),
        )
