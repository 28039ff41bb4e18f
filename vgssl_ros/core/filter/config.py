"""Settings of the temporal place filter."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FilterConfig:
    """Temporal filter parameters (defaults suit a route mapped every few metres to a few hundred metres).

    step_radius_m: places reachable in one frame; 0 = auto, 5 x the median distance between neighbouring places.
    speed_std_m: sideways tolerance (m) around the direction of travel; 0 = auto, half the median place spacing.
    speed_change: log-normal spread of the speed from one frame to the next (0.1: about +-10 %).
    jump_prob: share of each hypothesis spread evenly over all places within reach (sudden speed changes,
        gaps in the map), the rest follows its constant-velocity prediction.
    temperature: observation log-likelihood = z-scored similarity / temperature (larger = trust frames less).
    confidence_evidence: share of each frame's *news* the reported confidence counts as evidence (the belief counts
        all of every frame). A frame's news is the smaller of its novelty (1 - cosine between its centred
        descriptor and the last frame's) and the place spacings the robot moved: consecutive views of one place
        are far from independent, so a run of them must not make the filter sure of a wrong place.
    kidnap_prob: per-frame probability that the robot jumped anywhere (mass re-seeded on fresh candidates).
    seed_k: single-frame candidates (FAISS top-k) re-seeded each frame.
    max_support: places with the most belief kept each frame (cost per frame is bounded by this).
    query_mean_rate: rate of the running mean the query descriptors are centred on, per map spacing travelled
        (a frame takes its share: robot speed / spacing, at least 0.1, at most 1); 0 = no centring.
    reference_places: random places whose similarities z-score each frame's observation.
    max_gap_s: a stamp jump larger than this, forward or back, resets the filter; a frame older than (or as old
        as) the last one by less is out of order (state unchanged).
    min_confidence: the filtered fix is rejected (NO_FIX) below this confidence, calibrated when a calibration
        is loaded.
    """

    step_radius_m: float = 0.0
    speed_std_m: float = 0.0
    speed_change: float = 0.1
    jump_prob: float = 0.05
    temperature: float = 2.0
    confidence_evidence: float = 1.0
    kidnap_prob: float = 0.02
    seed_k: int = 50
    max_support: int = 400
    query_mean_rate: float = 0.03
    reference_places: int = 256
    max_gap_s: float = 10.0
    min_confidence: float = 0.5

    def __post_init__(self) -> None:
        checks = {
            "step_radius_m": self.step_radius_m >= 0,
            "speed_std_m": self.speed_std_m >= 0,
            "speed_change": self.speed_change > 0,
            "jump_prob": 0 <= self.jump_prob <= 1,
            "temperature": self.temperature > 0,
            "confidence_evidence": 0 < self.confidence_evidence <= 1,
            "kidnap_prob": 0 < self.kidnap_prob < 1,
            "seed_k": self.seed_k >= 1,
            "max_support": self.max_support >= 1,
            "query_mean_rate": 0 <= self.query_mean_rate < 1,
            "reference_places": self.reference_places >= 1,
            "max_gap_s": self.max_gap_s > 0,
            "min_confidence": 0 <= self.min_confidence <= 1,
        }
        bad = [name for name, ok in checks.items() if not ok or not math.isfinite(float(getattr(self, name)))]
        if bad:
            raise ValueError(
                "invalid filter settings: "
                + ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
                + " (see FilterConfig for the valid ranges)"
            )
