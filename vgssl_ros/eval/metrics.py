"""Scores of a localized drive: Recall@N, position errors, answered fraction, precision, latency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgssl_ros.geo import EVAL_RADIUS_M, neighbours_within
from vgssl_ros.metrics import recall_at_n

DRIVE_RECALL_NS = (1, 5, 10)


@dataclass
class DriveOutcome:
    """Per frame of a drive: ground truth ``gt_utm`` [N, 2], estimate ``est_utm`` [N, 2] (NaN where none),
    ``accepted`` [N] bool, ``candidates`` [N, K] place indices (-1 padded), ``latency_ms`` [N]."""

    gt_utm: np.ndarray
    est_utm: np.ndarray
    accepted: np.ndarray
    candidates: np.ndarray
    latency_ms: np.ndarray

    def errors_m(self) -> np.ndarray:
        """Distance [N] from estimate to ground truth (NaN where no estimate)."""
        return np.linalg.norm(self.est_utm - self.gt_utm, axis=1)


def top1_outcome(outcome: DriveOutcome, places_utm: np.ndarray) -> DriveOutcome:
    """The single-frame answer behind ``outcome``'s ranked candidates: each frame at its top-1 place (every frame
    with a candidate counts as accepted: live, the node publishes its candidates ungated)."""
    top1 = outcome.candidates[:, 0] if outcome.candidates.size else np.full(len(outcome.gt_utm), -1)
    has = top1 >= 0
    est = np.full((len(top1), 2), np.nan)
    est[has] = places_utm[top1[has]]
    return DriveOutcome(outcome.gt_utm, est, has, outcome.candidates, outcome.latency_ms)


def drive_metrics(
    outcome: DriveOutcome,
    places_utm: np.ndarray,
    radius_m: float = EVAL_RADIUS_M,
    ns: tuple[int, ...] = DRIVE_RECALL_NS,
) -> dict:
    """Recall@N of the ranked candidates, accepted or not (positives: places within ``radius_m`` of the ground
    truth); answered = accepted with a position; correct = answered and within ``radius_m``; precision =
    correct / answered; error percentiles of answered frames. See ``metric_definitions``."""
    n = len(outcome.gt_utm)
    if n == 0:
        raise ValueError("no frames to score: the drive had no image with a ground-truth fix")
    positives = neighbours_within(outcome.gt_utm, places_utm, radius_m)
    recall = recall_at_n(outcome.candidates, positives, ns)
    errors = outcome.errors_m()
    answered = outcome.accepted & np.isfinite(errors)
    correct = answered & (errors <= radius_m)
    err_answered = errors[answered]
    lat = outcome.latency_ms[np.isfinite(outcome.latency_ms)]
    return {
        "frames": int(n),
        "frames_with_place_in_map": int(sum(len(p) > 0 for p in positives)),
        "recall": {str(k): v for k, v in recall.items()},
        "answered_frames": int(answered.sum()),
        "correct_frames": int(correct.sum()),
        "answered_fraction": float(answered.mean()),
        "precision_answered": float(correct.sum() / answered.sum()) if answered.any() else float("nan"),
        "correct_fraction": float(correct.mean()),
        "error_median_m": float(np.median(err_answered)) if err_answered.size else float("nan"),
        "error_p90_m": float(np.percentile(err_answered, 90)) if err_answered.size else float("nan"),
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "latency_p95_ms": float(np.percentile(lat, 95)) if lat.size else float("nan"),
        "radius_m": float(radius_m),
    }


def metric_definitions(radius_m: float = EVAL_RADIUS_M) -> str:
    """What each number of a drive summary counts, one line each (printed once under the summary)."""
    r = f"{radius_m:g} m"
    return "\n".join(
        [
            f"R@N        % of frames whose N best-ranked candidate places include one within {r} of the truth,"
            " whether the answer was accepted or rejected",
            "answered   % of frames with an accepted answer (a rejected or missing answer is not answered)",
            f"correct    % of frames with an accepted answer within {r} of the truth (correct <= answered)",
            "precision  correct / answered: % of the accepted answers that are correct",
            "error      median and 90th percentile distance of the accepted answers to the truth",
            "acquired   frames (s) from the first frame to the first of 3 correct answers in a row",
            "wrong streak  consecutive accepted answers outside the radius (a right or rejected frame ends it);"
            " its length in frames, seconds (first stamp to one frame past the last) and metres travelled",
            "recovery   seconds from the last frame of a wrong streak to the next correct answer",
            "confidently wrong  % of frames accepted, wrong and with probability >= 0.9 (each is inside a"
            " confident wrong streak); the longest such streak in seconds",
            "gnss       the drive's GNSS fix's distance to the ground truth (drives with both, e.g. the simulator's)",
        ]
    )
