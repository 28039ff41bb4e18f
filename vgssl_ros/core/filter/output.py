"""The filter's state as the Estimate the node publishes (so fix and pose messages serve both paths)."""
from __future__ import annotations

import numpy as np

from vgssl_ros.core.estimate import Estimate
from vgssl_ros.core.filter.bayes import FilterState


def filtered_estimate(state: FilterState, probability: float, covariance_scale: float = 1.0,
                      min_probability: float = 0.0) -> Estimate:
    """Estimate from ``state``: covariance x ``covariance_scale``; rejected when ``probability`` (calibrated
    confidence) is below ``min_probability`` or the filter is lost. ``top1_similarity`` carries the probability."""
    reason = ""
    if state.status == "lost":
        reason = f"filter lost: {state.lost_mass:.2f} of the belief is elsewhere (confidence {state.confidence:.2f})"
    elif probability < min_probability:
        reason = f"filtered confidence {probability:.3f} < {min_probability:.3f}"
    return Estimate(np.asarray(state.position, float), np.asarray(state.covariance, float) * covariance_scale,
                    not reason, reason, state.place, float(probability), float("nan"), state.support)
