"""The filter's state as the Answer the node publishes (so fix and pose messages serve both modes)."""

from __future__ import annotations

import numpy as np

from vgssl_ros.core.answer import Answer
from vgssl_ros.core.filter.bayes import FilterState


def reported_covariance(
    state: FilterState, probability: float, covariance_scale: float, min_std_m: float
) -> np.ndarray:
    """Covariance [2, 2] to publish: the belief's, scaled, plus (1 - probability) x the map's spread about
    the estimate (if the answer is wrong the robot may be anywhere on the map), plus ``min_std_m``^2
    (the map's resolution, never scaled away)."""
    p = float(np.clip(probability, 0.0, 1.0)) if np.isfinite(probability) else 0.0
    return (
        np.asarray(state.covariance, float) * covariance_scale
        + (1.0 - p) * np.asarray(state.anywhere, float)
        + np.eye(2) * min_std_m**2
    )


def filtered_answer(
    state: FilterState,
    probability: float,
    covariance_scale: float,
    min_confidence: float,
    min_std_m: float,
    heading_deg: float,
) -> Answer:
    """The filter's answer with ``reported_covariance``; rejected when the frame came out of order (the state
    is the previous frame's), when the filter is lost, or when ``probability`` (calibrated confidence) is below
    ``min_confidence``. ``heading_deg``: heading of the place ``state.place``."""
    reason = ""
    if state.status == "out_of_order":
        reason = "frame stamp not newer than the last frame's: ignored by the filter, no fresh fix"
    elif state.status == "lost":
        reason = f"filter lost: {state.lost_mass:.2f} of the belief is elsewhere ({state.belief:.2f} near the answer)"
    elif probability < min_confidence:
        reason = f"filtered confidence {probability:.3f} < {min_confidence:.3f}"
    return Answer(
        np.asarray(state.position, float),
        reported_covariance(state, probability, covariance_scale, min_std_m),
        not reason,
        reason,
        float(probability),
        state.place,
        float(heading_deg),
        "filtered",
    )
