"""Per-frame records of both answers (single-frame and filtered) for side-by-side scores and calibration."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vgssl_ros.core.localizer import FrameResult, LocalizerCore
from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.eval.robustness import robustness_metrics

CHI2_2DOF_95 = -2.0 * np.log(0.05)
"""Squared Mahalanobis radius of the 2-D 95 % ellipse (chi-square, 2 degrees of freedom): 5.991."""


@dataclass
class ModeLog:
    """One answer per frame: position [2], raw covariance [2, 2] (uncalibrated), the map's spread about the
    position [2, 2] (filtered answers; zero for single frames), score, calibrated probability, accepted
    flag and ranked candidates [K]."""

    positions: list[np.ndarray] = field(default_factory=list)
    covariances: list[np.ndarray] = field(default_factory=list)
    anywhere: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    accepted: list[bool] = field(default_factory=list)
    candidates: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class ScoredFrames:
    """Per frame: ``scores`` [N] (raw), ``probabilities`` [N] (calibrated), ``errors_m`` [N], truth minus
    estimate ``diff`` [N, 2], raw ``covariance`` [N, 2, 2] and map spread ``anywhere`` [N, 2, 2]."""

    scores: np.ndarray
    probabilities: np.ndarray
    errors_m: np.ndarray
    diff: np.ndarray
    covariance: np.ndarray
    anywhere: np.ndarray
    min_std_m: float = 0.0

    def d2(self, covariance_scale: float, probabilities: np.ndarray | None = None) -> np.ndarray:
        """Squared Mahalanobis distances [N] of the truth under the reported covariance
        (raw x scale + (1 - probability) x anywhere + min_std_m^2, as `reported_covariance`)."""
        p = self.probabilities if probabilities is None else probabilities
        p = np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0)
        cov = (
            self.covariance * covariance_scale + (1 - p)[:, None, None] * self.anywhere + np.eye(2) * self.min_std_m**2
        )
        return np.einsum("ni,nij,nj->n", self.diff, np.linalg.inv(cov), self.diff)


class FrameLog:
    """Callable for `localize_drive(on_frame=...)`; keeps ``modes['single']`` and, with a filter,
    ``modes['filtered']``."""

    def __init__(self, core: LocalizerCore) -> None:
        self.core, self.top_k = core, core.settings.top_k
        self.gt: list[np.ndarray] = []
        self.stamps: list[float] = []
        self.modes: dict[str, ModeLog] = {"single": ModeLog(), "filtered": ModeLog()}

    def __call__(self, gt_utm: np.ndarray, result: FrameResult, stamp_s: float) -> None:
        """Record one frame (``stamp_s``: its stamp, for streaks in seconds)."""
        self.gt.append(np.asarray(gt_utm, float))
        self.stamps.append(float(stamp_s))
        single_prob = self.core.probability("single", result.estimate.top1_similarity)
        self._add(
            "single",
            result.estimate.position,
            result.estimate.covariance,
            np.zeros((2, 2)),
            result.estimate.top1_similarity,
            single_prob,
            result.estimate.accepted,
            result.candidates,
        )
        if result.filtered is not None:
            state = result.filtered
            self._add(
                "filtered",
                state.position,
                state.covariance,
                state.anywhere,
                state.confidence,
                result.answer.probability,
                result.answer.accepted,
                state.candidates,
            )

    def _add(self, mode: str, position, covariance, anywhere, score, probability, accepted, candidates) -> None:
        log = self.modes[mode]
        row = np.full(self.top_k, -1, np.int64)
        row[: min(len(candidates), self.top_k)] = np.asarray(candidates)[: self.top_k]
        log.positions.append(np.asarray(position, float))
        log.covariances.append(np.asarray(covariance, float))
        log.anywhere.append(np.asarray(anywhere, float))
        log.scores.append(float(score))
        log.probabilities.append(float(probability))
        log.accepted.append(bool(accepted))
        log.candidates.append(row)

    def has(self, mode: str) -> bool:
        """Whether ``mode`` recorded any frame."""
        return bool(self.modes[mode].positions)

    def outcome(self, mode: str, latency_ms: np.ndarray) -> DriveOutcome:
        """The DriveOutcome of ``mode`` (latency [N] shared by both modes: one pass computes both)."""
        log = self.modes[mode]
        return DriveOutcome(
            np.array(self.gt),
            np.array(log.positions),
            np.array(log.accepted, bool),
            np.stack(log.candidates),
            np.asarray(latency_ms),
        )

    def robustness(self, mode: str, radius_m: float) -> dict[str, float]:
        """How ``mode``'s published answers fail (`robustness_metrics`): confidently wrong share, its longest streak
        and acquisition; correct = within ``radius_m`` of the truth."""
        log = self.modes[mode]
        errors = np.linalg.norm(np.array(self.gt) - np.array(log.positions), axis=1)
        return robustness_metrics(
            np.array(log.accepted, bool), errors <= radius_m, np.array(log.probabilities), np.array(self.stamps)
        )

    def scored(self, mode: str) -> ScoredFrames:
        """Scores, errors and Mahalanobis distances of ``mode`` for calibration."""
        log = self.modes[mode]
        diff = np.array(self.gt) - np.array(log.positions)
        return ScoredFrames(
            np.array(log.scores),
            np.array(log.probabilities),
            np.linalg.norm(diff, axis=1),
            diff,
            np.array(log.covariances),
            np.array(log.anywhere),
            self.core.settings.min_std_m if mode == "filtered" else 0.0,
        )
