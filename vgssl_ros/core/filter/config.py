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
    confidence_evidence: share of each frame's evidence the reported confidence counts (the belief counts all of
        it): consecutive frames of one place are far from independent, so a run of them must not make the filter
        sure; 1 = the belief's own mass.
    kidnap_prob: per-frame probability that the robot jumped anywhere (mass re-seeded on fresh candidates).
    seed_k: single-frame candidates (FAISS top-k) re-seeded each frame.
    max_support: places with the most belief kept each frame (cost per frame is bounded by this).
    query_mean_rate: rate of the running mean the query descriptors are centred on, per map spacing travelled
        (a frame takes its share: robot speed / spacing, at least 0.1, at most 1); 0 = no centring.
    reference_places: random places whose similarities z-score each frame's observation.
    max_gap_s: a stamp jump larger than this, forward or back, resets the filter; a frame older than (or as old
        as) the last one by less is out of order (state unchanged).
    track_frames: recent frames whose top-1 places are checked for a consistent track of their own (sequence.py);
        0 = no check. A belief that disagrees with such a track is reported unsure and overturned.
    track_min_share: share of ``track_frames`` whose top-1 must lie on the track.
    track_patience: frames of disagreement with a track before the belief is moved onto it.
    min_confidence: the filtered fix is rejected (NO_FIX) below this confidence, calibrated when a calibration
        is loaded.
    """

    step_radius_m: float = 0.0
    speed_std_m: float = 0.0
    speed_change: float = 0.1
    jump_prob: float = 0.05
    temperature: float = 2.0
    confidence_evidence: float = 0.25
    kidnap_prob: float = 0.02
    seed_k: int = 50
    max_support: int = 400
    query_mean_rate: float = 0.03
    reference_places: int = 256
    max_gap_s: float = 10.0
    track_frames: int = 20
    track_min_share: float = 0.4
    track_patience: int = 5
    min_confidence: float = 0.0

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
            "track_frames": self.track_frames == 0 or self.track_frames >= 2,
            "track_min_share": 0 < self.track_min_share <= 1,
            "track_patience": self.track_patience >= 1,
            "min_confidence": 0 <= self.min_confidence <= 1,
        }
        bad = [name for name, ok in checks.items() if not ok or not math.isfinite(float(getattr(self, name)))]
        if bad:
            raise ValueError(
                "invalid filter settings: "
                + ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
                + " (see FilterConfig for the valid ranges)"
            )
