"""LocalizerCore: decode -> embed -> search -> estimate (-> filter) for one frame, without rclpy.

The node and `vgssl-eval` both build it with `build_localizer` (core/assemble.py) and run frames through
it, so what is scored offline is what the robot runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from vgssl_ros.core.answer import Answer, single_answer
from vgssl_ros.core.calibration import Calibration, mode_probability
from vgssl_ros.core.decode import decode_compressed, decode_image
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.errors import DecodeError
from vgssl_ros.core.estimate import Estimate, estimate_position
from vgssl_ros.core.filter import FilterState, PlaceFilter
from vgssl_ros.core.filter.output import filtered_answer
from vgssl_ros.core.map import Map
from vgssl_ros.core.settings import LocalizerSettings


@dataclass(frozen=True)
class FrameResult:
    """One frame's outcome.

    ``answer``: what ~/fix and ~/pose publish (the filter's when it is on, else the single-frame one);
    ``estimate``: the raw single-frame estimate (top-1 similarity, margin; gated by min_similarity and
    min_margin); top-K ``candidates`` [K] place indices, ``similarities`` [K], ``candidate_utm`` [K, 2] and
    ``candidate_heading_deg`` [K]; compute time (ms) of decode and embed+search+estimate; ``filtered``:
    the filter's state (None without a filter); ``activation``: where the descriptor looked, float32 [h, w] with
    maximum 1 (None unless the frame was localized with ``activation=True`` by a model exported with it).
    """

    answer: Answer
    estimate: Estimate
    candidates: np.ndarray
    similarities: np.ndarray
    candidate_utm: np.ndarray
    candidate_heading_deg: np.ndarray
    decode_ms: float
    infer_ms: float
    filtered: FilterState | None = None
    activation: np.ndarray | None = None


class LocalizerCore:
    """Holds the embedder, the map, the filter and the settings; ``localize_*`` handle one frame each.

    ``settings`` may be replaced at any time by one assignment (runtime parameter changes): each frame
    reads it once, so a frame sees either the old settings or the new ones, never half of an update.
    """

    def __init__(
        self,
        embedder: Embedder,
        geo_map: Map,
        settings: LocalizerSettings,
        temporal_filter: PlaceFilter | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        if embedder.dim != geo_map.dim:
            raise ValueError(f"model gives {embedder.dim}-d descriptors, map {geo_map.path} holds {geo_map.dim}-d")
        if temporal_filter is not None and temporal_filter.places != len(geo_map.places):
            raise ValueError(
                f"the filter covers {temporal_filter.places} places, map {geo_map.path} has {len(geo_map.places)}"
            )
        self.embedder, self.map, self.settings = embedder, geo_map, settings
        self.filter, self.calibration = temporal_filter, calibration

    def localize_rgb(self, rgb: np.ndarray, stamp_s: float | None = None, activation: bool = False) -> FrameResult:
        """Localize one uint8 RGB image [H, W, 3]; ``stamp_s`` orders frames for the temporal filter;
        ``activation``: also return the activation map (from the same model run) when the model has one."""
        return self._localize(rgb, 0.0, stamp_s, self.settings, activation)

    def localize_image(
        self,
        encoding: str,
        height: int,
        width: int,
        step: int,
        is_bigendian: bool,
        data: Any,
        stamp_s: float | None = None,
        activation: bool = False,
    ) -> FrameResult:
        """Localize a sensor_msgs/Image given by its fields (``activation`` as in localize_rgb); raises DecodeError
        for a bad message."""
        settings = self.settings
        _check_size(int(height), int(width), settings.max_image_pixels)
        t0 = time.perf_counter()
        rgb = decode_image(encoding, height, width, step, is_bigendian, data)
        return self._localize(rgb, (time.perf_counter() - t0) * 1e3, stamp_s, settings, activation)

    def localize_compressed(
        self, fmt: str, data: Any, stamp_s: float | None = None, activation: bool = False
    ) -> FrameResult:
        """Localize a sensor_msgs/CompressedImage given by its fields (``activation`` as in localize_rgb)."""
        settings = self.settings
        t0 = time.perf_counter()
        rgb = decode_compressed(fmt, data, max_pixels=settings.max_image_pixels)
        _check_size(rgb.shape[0], rgb.shape[1], settings.max_image_pixels)
        return self._localize(rgb, (time.perf_counter() - t0) * 1e3, stamp_s, settings, activation)

    def probability(self, mode: str, score: float) -> float:
        """Calibrated probability that an answer of ``mode`` ('single': top-1 similarity, 'filtered':
        confidence) with this ``score`` is correct; the score itself (clipped to [0, 1]) without calibration."""
        return mode_probability(self.calibration.for_mode(mode) if self.calibration else None, mode, score)

    def covariance_scale(self, mode: str) -> float:
        """The calibration's covariance scale of ``mode`` (1 without a calibration)."""
        calib = self.calibration.for_mode(mode) if self.calibration else None
        return calib.covariance_scale if calib else 1.0

    def _localize(
        self,
        rgb: np.ndarray,
        decode_ms: float,
        stamp_s: float | None,
        settings: LocalizerSettings,
        activation: bool = False,
    ) -> FrameResult:
        t0 = time.perf_counter()
        top_k, places = settings.top_k, self.map.places
        heat = None
        if activation and self.embedder.has_activation:
            descriptor, maps = self.embedder.embed_with_activations([rgb])
            heat = maps[0]
        else:
            descriptor = self.embedder.embed([rgb])
        k = max(top_k, self.filter.config.seed_k) if self.filter else top_k
        all_sims, all_idx = self.map.search(descriptor, k)
        idx, sims = all_idx[0][:top_k], all_sims[0][:top_k]
        estimate = estimate_position(sims, idx, places.utm, settings.estimator)
        probability = self.probability("single", estimate.top1_similarity)
        heading = float(places.heading[estimate.top1_index])
        answer = single_answer(estimate, probability, self.covariance_scale("single"), heading)
        filtered = None
        if self.filter is not None:
            filtered = self.filter.step(descriptor[0], all_idx[0], stamp_s, top_k)
            answer = filtered_answer(
                filtered,
                self.probability("filtered", filtered.confidence),
                self.covariance_scale("filtered"),
                settings.filter_min_confidence,
                settings.min_std_m,
                float(places.heading[filtered.place]),
            )
        valid = idx[idx >= 0]
        return FrameResult(
            answer,
            estimate,
            idx,
            sims,
            places.utm[valid],
            places.heading[valid],
            decode_ms,
            (time.perf_counter() - t0) * 1e3,
            filtered,
            heat,
        )


def _check_size(height: int, width: int, max_pixels: int) -> None:
    if height * width > max_pixels:
        raise DecodeError(f"image {width}x{height} has more than max_image_pixels={max_pixels} pixels")
