"""The filter's state as the Estimate the node publishes (so fix and pose messages serve both paths)."""

from __future__ import annotations

import numpy as np

from vgssl_ros.core.estimate import Estimate
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


def filtered_estimate(
    state: FilterState,
    probability: float,
    covariance_scale: float = 1.0,
    min_probability: float = 0.0,
    min_std_m: float = 5.0,
) -> Estimate:
    """Estimate from ``state`` with ``reported_covariance``; rejected when ``probability`` (calibrated
    confidence) is below ``min_probability`` or the filter is lost. ``top1_similarity`` carries the probability."""
    reason = ""
    if state.status == "lost":
        reason = f"filter lost: {state.lost_mass:.2f} of the belief is elsewhere (confidence {state.confidence:.2f})"
    elif probability < min_probability:
        reason = f"filtered confidence {probability:.3f} < {min_probability:.3f}"
    return Estimate(
        np.asarray(state.position, float),
        reported_covariance(state, probability, covariance_scale, min_std_m),
        not reason,
        reason,
        state.place,
        float(probability),
        float("nan"),
        state.support,
    )
