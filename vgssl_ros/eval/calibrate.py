"""Fitting and checking calibration on a scored drive: score -> P(correct), covariance scale, ellipse coverage."""

from __future__ import annotations

import math

import numpy as np

from vgssl_ros.core.calibration import ScoreCalibration
from vgssl_ros.eval.frame_log import ScoredFrames
from vgssl_ros.eval.frames import CHI2_2DOF_95
from vgssl_ros.geo import EVAL_RADIUS_M

MAX_KNOTS = 32

PRIOR_PROBABILITY = 0.5
PSEUDO_COUNT = 2.0
"""Each isotonic block's P(correct) is the mean of a Beta(1, 1) (uniform) prior updated with its frames:
(right + PSEUDO_COUNT x PRIOR_PROBABILITY) / (frames + PSEUDO_COUNT), Laplace's rule of succession. n frames
all right claim (n + 1) / (n + 2), never 1; a handful stay near 0.5. Rich blocks barely move (1/n)."""

MIN_COVARIANCE_SCALE = 1.0
"""Never report an ellipse tighter than the localizer's own covariance (the filter's posterior, lost mass
included; the single frame's match spread), both plus min_std_m^2. A drive whose errors all sit inside that
(an easy one, or min_std_m and the map spread already cover it) cannot show how much tighter to go, and a
scale fitted below 1 on an easy drive is what shrinks the ellipse most where the next drive is harder (at
night it held the truth in 3-6 % of frames)."""
MAX_COVARIANCE_SCALE = 1e6
"""x 1000 in standard deviation (5 m becomes 5 km, more than any map spans): a fit that needs more says the raw
covariance bears no relation to the errors."""

MIN_FRAMES = 100
"""Fewer frames leave fewer than 5 outside the 95 % ellipse to set its scale."""
MIN_WRONG_FRAMES = 10
"""Fewer wrong answers (error > radius) cannot show which scores go with being wrong: the probabilities then
stay near what the prior and the right frames give, and the night drive's confident wrong answers look right."""


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


def calibration_warnings(part: ScoreCalibration, mode: str) -> list[str]:
    """One line per reason the validation drive ``part`` was fitted on could not teach it (too few frames, too
    few wrong answers, covariance scale at a bound), each saying what to do; [] when none (or counts unknown)."""
    fix = "refit it with `vgssl-eval --calibrate` on a longer, harder validation drive (more of the route, night)"
    out = []
    if 0 < part.frames < MIN_FRAMES:
        out.append(
            f"{mode} calibration was fitted on only {part.frames} frames (< {MIN_FRAMES}): its probabilities stay "
            f"near {PRIOR_PROBABILITY:g} and its covariance scale is a guess; {fix}"
        )
    if part.frames and part.wrong < MIN_WRONG_FRAMES:
        out.append(
            f"{mode} calibration saw only {part.wrong} wrong answers in {part.frames} frames (< {MIN_WRONG_FRAMES}): "
            f"it cannot tell which scores go wrong, so wrong answers on a harder drive will claim high "
            f"probabilities; {fix}"
        )
    if part.covariance_scale <= MIN_COVARIANCE_SCALE:
        out.append(
            f"{mode} covariance scale held at its floor {MIN_COVARIANCE_SCALE:g}: on its validation drive the "
            f"localizer's own covariance already held the truth in 95 % of frames, so that drive cannot show how "
            f"much tighter to go (ellipses may be wider than needed); {fix}"
        )
    elif part.covariance_scale >= MAX_COVARIANCE_SCALE:
        out.append(
            f"{mode} covariance scale held at its ceiling {MAX_COVARIANCE_SCALE:g}: the localizer's covariance bears "
            "no relation to its validation drive's errors (wrong map, model or ground truth topic?); check, then refit"
        )
    return out


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
