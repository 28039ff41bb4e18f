"""The localizer's published answer for one frame: what ~/fix and ~/pose carry, single-frame or filtered."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgssl_ros.core.estimate import Estimate

MODES = ("single", "filtered")


@dataclass(frozen=True)
class Answer:
    """One frame's answer: ``position`` [2] UTM m, ``covariance`` [2, 2] m^2 (calibrated scale).

    ``accepted`` False is published as STATUS_NO_FIX, ``reason`` says why (position and covariance are
    still the best guess, for diagnostics). ``probability``: calibrated probability that the answer is right
    (the raw score clipped to [0, 1] without a calibration). ``place``: the map place it rests on;
    ``heading_deg``: that place's compass heading (NaN when unknown); ``mode``: one of MODES.
    """

    position: np.ndarray
    covariance: np.ndarray
    accepted: bool
    reason: str
    probability: float
    place: int
    heading_deg: float
    mode: str


def single_answer(estimate: Estimate, probability: float, covariance_scale: float, heading_deg: float) -> Answer:
    """The single-frame answer: ``estimate`` with its covariance scaled by the calibration's ``covariance_scale``;
    accepted or rejected by ``min_similarity`` / ``min_margin`` (see `estimate_position`)."""
    return Answer(
        np.asarray(estimate.position, float),
        np.asarray(estimate.covariance, float) * covariance_scale,
        estimate.accepted,
        estimate.reason,
        float(probability),
        estimate.top1_index,
        float(heading_deg),
        "single",
    )
