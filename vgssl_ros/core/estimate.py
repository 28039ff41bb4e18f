"""From ranked map matches to one position estimate with covariance, or a rejection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EstimatorConfig:
    """Estimate parameters (ranges are checked where they are set: the settings table, core/settings.py).

    radius_m: top-K places within this distance of the top-1 place agree with it and refine it.
    min_similarity: reject when the top-1 cosine similarity is below this.
    min_margin: reject when top-1 similarity minus the best similarity of a place outside ``radius_m``
        is below this (ambiguity between distant places).
    min_std_m: standard deviation added in quadrature to the spatial spread (map resolution).
    """

    radius_m: float = 25.0
    min_similarity: float = 0.0
    min_margin: float = 0.0
    min_std_m: float = 5.0


@dataclass(frozen=True)
class Estimate:
    """One frame's single-frame estimate: ``position`` [2] UTM east/north, ``covariance`` [2, 2] m^2.

    ``accepted`` is False when the match is rejected (``reason`` says why); position and covariance
    are still those of the top-1 place, for diagnostics.
    """

    position: np.ndarray
    covariance: np.ndarray
    accepted: bool
    reason: str
    top1_index: int
    top1_similarity: float
    margin: float
    agreeing: int


def estimate_position(
    similarities: np.ndarray, indices: np.ndarray, places_utm: np.ndarray, config: EstimatorConfig
) -> Estimate:
    """Estimate from one query's top-K matches: ``similarities`` [K] (best first), ``indices`` [K] into
    ``places_utm`` [N, 2]."""
    sims = np.asarray(similarities, dtype=np.float64).reshape(-1)
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    valid = idx >= 0  # FAISS pads with -1 when K exceeds what an index returns
    sims, idx = sims[valid], idx[valid]
    if idx.size == 0:
        raise ValueError("estimate_position needs at least one match")
    pos = places_utm[idx]
    dist = np.linalg.norm(pos - pos[0], axis=1)
    inside = dist <= config.radius_m
    weights = np.clip(sims[inside], 1e-6, None)
    mean = (weights[:, None] * pos[inside]).sum(axis=0) / weights.sum()
    centred = pos[inside] - mean
    spread = (weights[:, None, None] * centred[:, :, None] * centred[:, None, :]).sum(axis=0) / weights.sum()
    covariance = spread + np.eye(2) * config.min_std_m**2
    # Best similarity outside the radius; if all top-K agree, the K-th similarity bounds it from above.
    outside = sims[~inside]
    rival = float(outside.max()) if outside.size else float(sims[-1]) if sims.size > 1 else -1.0
    margin = float(sims[0] - rival)
    reason = ""
    if sims[0] < config.min_similarity:
        reason = f"top-1 similarity {sims[0]:.3f} < {config.min_similarity:.3f}"
    elif margin < config.min_margin:
        reason = f"margin {margin:.3f} to a place outside {config.radius_m:g} m < {config.min_margin:.3f}"
    return Estimate(mean, covariance, not reason, reason, int(idx[0]), float(sims[0]), margin, int(inside.sum()))
