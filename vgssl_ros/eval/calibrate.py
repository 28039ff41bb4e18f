"""Fitting and checking calibration on a scored drive: score -> P(correct), covariance scale, ellipse coverage."""

from __future__ import annotations

import numpy as np

from vgssl_ros.core.calibration import ScoreCalibration
from vgssl_ros.eval.frame_log import CHI2_2DOF_95, ScoredFrames
from vgssl_ros.geo import EVAL_RADIUS_M

MAX_KNOTS = 32


def isotonic(values: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing sequence [N] closest (least squares) to ``values`` [N]."""
    blocks: list[list[float]] = []  # [sum, count]
    for v in np.asarray(values, float):
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    return np.concatenate([np.full(int(c), s / c) for s, c in blocks])


def fit_score_calibration(
    frames: ScoredFrames, radius_m: float = EVAL_RADIUS_M, coverage: float = 0.95
) -> ScoreCalibration:
    """Isotonic P(error <= ``radius_m`` | score), then the covariance scale whose reported 95 % ellipse
    (see ScoredFrames.d2, with the fitted probabilities) holds the truth in ``coverage`` of the frames."""
    ok = np.isfinite(frames.scores) & np.isfinite(frames.diff).all(axis=1)
    if ok.sum() < 2:
        raise ValueError("calibration needs at least two scored frames with finite scores")
    order = np.argsort(frames.scores[ok], kind="stable")
    scores = frames.scores[ok][order]
    fitted = isotonic((frames.errors_m[ok][order] <= radius_m).astype(float))
    knots = np.unique(np.linspace(0, len(scores) - 1, min(MAX_KNOTS, len(scores))).round().astype(int))
    s, first = np.unique(scores[knots], return_index=True)  # equal scores: keep one knot
    probability = ScoreCalibration(tuple(map(float, s)), tuple(map(float, fitted[knots][first])), 1.0)
    p = np.array([probability.probability(v) for v in frames.scores])
    return ScoreCalibration(probability.scores, probability.probabilities, _covariance_scale(frames, p, coverage))


def _covariance_scale(frames: ScoredFrames, probabilities: np.ndarray, coverage: float) -> float:
    """Smallest scale (bisection in log space, 1e-6..1e12) whose ellipses cover ``coverage`` of the frames."""

    def covered(scale: float) -> float:
        return float(np.mean(frames.d2(scale, probabilities) <= CHI2_2DOF_95))

    lo, hi = -6.0, 12.0
    if covered(10**lo) >= coverage:
        return 10**lo
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if covered(10**mid) >= coverage else (mid, hi)
    return float(10**hi)


def ellipse_coverage(frames: ScoredFrames, covariance_scale: float) -> float:
    """Fraction of frames whose reported 95 % ellipse (with their ``probabilities``) holds the truth."""
    return float(np.mean(frames.d2(covariance_scale) <= CHI2_2DOF_95))


def precision_recall(
    frames: ScoredFrames, radius_m: float = EVAL_RADIUS_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answering only above a score threshold: (thresholds [N], precision [N], recall [N] = correct answers /
    frames)."""
    order = np.argsort(-frames.scores, kind="stable")
    correct = (frames.errors_m[order] <= radius_m).astype(float)
    hits = np.cumsum(correct)
    return frames.scores[order], hits / np.arange(1, len(order) + 1), hits / len(order)


def calibration_metrics(frames: ScoredFrames, covariance_scale: float, radius_m: float = EVAL_RADIUS_M) -> dict:
    """Coverage of the reported 95 % ellipse, Brier score of the probabilities and average precision."""
    _, precision, recall = precision_recall(frames, radius_m)
    correct = frames.errors_m <= radius_m
    return {
        "ellipse95_coverage": ellipse_coverage(frames, covariance_scale),
        "covariance_scale": float(covariance_scale),
        "brier": float(np.mean((frames.probabilities - correct) ** 2)),
        "average_precision": float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision)),
    }
