"""Per-frame records of both answers (single-frame and filtered) for side-by-side scores and calibration."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vgssl_ros.core.answer import Answer, single_answer
from vgssl_ros.core.localizer import FrameResult, LocalizerCore
from vgssl_ros.eval.frames import ACCEPTED, DriveFrames, ModeFrames
from vgssl_ros.eval.metrics import DriveOutcome


@dataclass
class ModeLog:
    """One answer per frame: position [2], raw covariance [2, 2] (uncalibrated), the map's spread about the
    position [2, 2] (filtered answers; zero for single frames), score, calibrated probability, accepted
    flag, ranked candidates [K], and as published: status ('accepted' or the rejection reason), covariance
    [2, 2] and the place the answer rests on."""

    positions: list[np.ndarray] = field(default_factory=list)
    covariances: list[np.ndarray] = field(default_factory=list)
    anywhere: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    probabilities: list[float] = field(default_factory=list)
    accepted: list[bool] = field(default_factory=list)
    candidates: list[np.ndarray] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    published_covariance: list[np.ndarray] = field(default_factory=list)
    place: list[int] = field(default_factory=list)


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
        self.filter_status: list[str] = []
        self.modes: dict[str, ModeLog] = {"single": ModeLog(), "filtered": ModeLog()}

    def __call__(self, gt_utm: np.ndarray, result: FrameResult, stamp_s: float) -> None:
        """Record one frame (``stamp_s``: its stamp, for streaks in seconds)."""
        self.gt.append(np.asarray(gt_utm, float))
        self.stamps.append(float(stamp_s))
        single_prob = self.core.probability("single", result.estimate.top1_similarity)
        single = single_answer(result.estimate, single_prob, self.core.covariance_scale("single"), float("nan"))
        self._add("single", result.estimate.covariance, np.zeros((2, 2)), result.estimate.top1_similarity, single)
        self.modes["single"].candidates.append(self._ranked(result.candidates))
        self.filter_status.append(str(result.filtered.status) if result.filtered is not None else "")
        if result.filtered is not None:
            state = result.filtered
            self._add("filtered", state.covariance, state.anywhere, state.confidence, result.answer)
            self.modes["filtered"].candidates.append(self._ranked(state.candidates))

    def _ranked(self, candidates: np.ndarray) -> np.ndarray:
        """``candidates`` as a row [top_k], -1 padded."""
        row = np.full(self.top_k, -1, np.int64)
        row[: min(len(candidates), self.top_k)] = np.asarray(candidates)[: self.top_k]
        return row

    def _add(self, mode: str, covariance: np.ndarray, anywhere: np.ndarray, score: float, answer: Answer) -> None:
        log = self.modes[mode]
        log.positions.append(np.asarray(answer.position, float))
        log.covariances.append(np.asarray(covariance, float))
        log.anywhere.append(np.asarray(anywhere, float))
        log.scores.append(float(score))
        log.probabilities.append(float(answer.probability))
        log.accepted.append(bool(answer.accepted))
        log.status.append(ACCEPTED if answer.accepted else answer.reason or "rejected")
        log.published_covariance.append(np.asarray(answer.covariance, float))
        log.place.append(int(answer.place))

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

    def frames(self) -> DriveFrames:
        """The per-frame records of both modes (those that recorded frames), in the map's zone."""
        modes = {
            mode: ModeFrames(
                np.array(log.positions).reshape(-1, 2),
                np.array(log.accepted, bool),
                list(log.status),
                np.array(log.scores, float),
                np.array(log.probabilities, float),
                np.array(log.published_covariance).reshape(-1, 2, 2),
                np.array(log.place, np.int64),
            )
            for mode, log in self.modes.items()
            if log.positions
        }
        status = self.filter_status if self.has("filtered") else []
        return DriveFrames(np.array(self.stamps), np.array(self.gt).reshape(-1, 2), self.core.map.zone, modes, status)

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
