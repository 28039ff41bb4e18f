"""Fitting and checking calibration on a scored drive: score -> P(correct), covariance scale, ellipse coverage."""

from __future__ import annotations

import math

import numpy as np

from vgssl_ros.core.calibration import ScoreCalibration
from vgssl_ros.core.calibration_checks import (
    MAX_COVARIANCE_SCALE,
    MIN_COVARIANCE_SCALE,
    PRIOR_PROBABILITY,
)
from vgssl_ros.eval.frame_log import ScoredFrames
from vgssl_ros.eval.frames import CHI2_2DOF_95
from vgssl_ros.geo import EVAL_RADIUS_M

MAX_KNOTS = 32

PSEUDO_COUNT = 2.0
"""Each isotonic block's P(correct) is the mean of a Beta(1, 1) (uniform) prior updated with its frames:
(right + PSEUDO_COUNT x PRIOR_PROBABILITY) / (frames + PSEUDO_COUNT), Laplace's rule of succession. n frames
all right claim (n + 1) / (n + 2), never 1; a handful stay near 0.5. Rich blocks barely move (1/n)."""


def isotonic(values: np.ndarray, pseudo_count: float = 0.0, prior: float = PRIOR_PROBABILITY) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing sequence [N] closest (least squares) to ``values`` [N].

    With ``pseudo_count`` > 0 each of those constant blocks is then shrunk towards ``prior``
    ((sum + pseudo_count x prior) / (count + pseudo_count)), and blocks pool again until non-decreasing."""
    blocks = _pool([(float(v), 1.0) for v in np.asarray(values, float)], 0.0, prior, ties=True)
    if pseudo_count > 0:
        blocks = _pool(blocks, pseudo_count, prior, ties=False)
    return np.concatenate([np.full(round(c), (s + pseudo_count * prior) / (c + pseudo_count)) for s, c in blocks])


def _pool(
    blocks: list[tuple[float, float]], pseudo_count: float, prior: float, ties: bool
) -> list[tuple[float, float]]:
    """Merge adjacent (sum, count) blocks while a block's shrunk mean exceeds (or, with ``ties``, equals) the
    next one's."""

    def mean(block: tuple[float, float]) -> float:
        return (block[0] + pseudo_count * prior) / (block[1] + pseudo_count)

    out: list[tuple[float, float]] = []
    for block in blocks:
        out.append(block)
        while len(out) > 1 and (mean(out[-2]) >= mean(out[-1]) if ties else mean(out[-2]) > mean(out[-1])):
            s, c = out.pop()
            out[-1] = (out[-1][0] + s, out[-1][1] + c)
    return out


def fit_score_calibration(
    frames: ScoredFrames, radius_m: float = EVAL_RADIUS_M, coverage: float = 0.95
) -> ScoreCalibration:
    """P(error <= ``radius_m`` | score), isotonic with a Beta prior per block (PSEUDO_COUNT), then the covariance
    scale in [MIN_COVARIANCE_SCALE, MAX_COVARIANCE_SCALE] whose reported 95 % ellipse (see ScoredFrames.d2, with
    the fitted probabilities) holds the truth in ``coverage`` of the frames. See `calibration_warnings`."""
    ok = np.isfinite(frames.scores) & np.isfinite(frames.diff).all(axis=1)
    if ok.sum() < 2:
        raise ValueError("calibration needs at least two scored frames with finite scores")
    order = np.argsort(frames.scores[ok], kind="stable")
    scores = frames.scores[ok][order]
    right = frames.errors_m[ok][order] <= radius_m
    fitted = isotonic(right.astype(float), PSEUDO_COUNT, PRIOR_PROBABILITY)
    knots = np.unique(np.linspace(0, len(scores) - 1, min(MAX_KNOTS, len(scores))).round().astype(int))
    s, first = np.unique(scores[knots], return_index=True)  # equal scores: keep one knot
    probability = ScoreCalibration(tuple(map(float, s)), tuple(map(float, fitted[knots][first])), 1.0)
    p = np.array([probability.probability(v) for v in frames.scores])
    scale = _covariance_scale(frames, p, coverage)
    return ScoreCalibration(probability.scores, probability.probabilities, scale, len(right), int((~right).sum()))


def _covariance_scale(frames: ScoredFrames, probabilities: np.ndarray, coverage: float) -> float:
    """Smallest scale in [MIN_COVARIANCE_SCALE, MAX_COVARIANCE_SCALE] (bisection in log space) whose ellipses
    cover ``coverage`` of the frames; the bound when none inside is the answer."""

    def covered(scale: float) -> float:
        return float(np.mean(frames.d2(scale, probabilities) <= CHI2_2DOF_95))

    if covered(MIN_COVARIANCE_SCALE) >= coverage:
        return MIN_COVARIANCE_SCALE
    if covered(MAX_COVARIANCE_SCALE) < coverage:
        return MAX_COVARIANCE_SCALE
    lo, hi = math.log10(MIN_COVARIANCE_SCALE), math.log10(MAX_COVARIANCE_SCALE)
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
