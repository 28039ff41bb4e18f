"""How a drive's answers fail: confidently wrong frames, their longest streak, and the time to the first right fix.

A frame is *confidently wrong* when its answer was published (accepted), lies outside the evaluation radius of
the truth and claims a (calibrated) probability of at least ``confident`` of being right: the failure a robot
cannot see coming. Streaks are measured in seconds of stamps, so they read the same at any camera rate.
"""

from __future__ import annotations

import numpy as np

CONFIDENT = 0.9
"""Probability from which a published answer counts as confident."""


def confident_wrong(
    accepted: np.ndarray, correct: np.ndarray, probability: np.ndarray, confident: float = CONFIDENT
) -> np.ndarray:
    """Per frame [N] (bool): published, wrong and claiming probability >= ``confident``."""
    return np.asarray(accepted, bool) & ~np.asarray(correct, bool) & (np.asarray(probability, float) >= confident)


def longest_streak_s(flags: np.ndarray, stamps_s: np.ndarray) -> float:
    """Longest run of consecutive true ``flags`` [N], in seconds from its first to one frame past its last stamp
    [N] (a single flagged frame lasts one frame period); 0 when none is flagged."""
    flags, stamps = np.asarray(flags, bool), np.asarray(stamps_s, float)
    if not flags.any():
        return 0.0
    period = float(np.median(np.diff(stamps))) if len(stamps) > 1 else 0.0
    best, start = 0.0, None
    for i, flag in enumerate(flags):
        if flag and start is None:
            start = i
        if start is not None and (not flag or i == len(flags) - 1):
            end = i if flag else i - 1
            best = max(best, float(stamps[end] - stamps[start]) + period)
            start = None
    return best


def acquisition_s(accepted: np.ndarray, correct: np.ndarray, stamps_s: np.ndarray, run: int = 3) -> float:
    """Seconds from the first frame until the first of ``run`` consecutive published right answers; NaN if never."""
    good = np.asarray(accepted, bool) & np.asarray(correct, bool)
    stamps = np.asarray(stamps_s, float)
    for i in range(len(good) - run + 1):
        if good[i : i + run].all():
            return float(stamps[i] - stamps[0])
    return float("nan")


def robustness_metrics(
    accepted: np.ndarray,
    correct: np.ndarray,
    probability: np.ndarray,
    stamps_s: np.ndarray,
    confident: float = CONFIDENT,
) -> dict[str, float]:
    """Confidently wrong share and longest streak (s), and acquisition (s) of one drive's answers: ``accepted``,
    ``correct``, ``probability`` and ``stamps_s`` all [N] (answered share and precision: `drive_metrics`)."""
    flags = confident_wrong(accepted, correct, probability, confident)
    return {
        "confident_wrong": float(flags.mean()) if len(flags) else 0.0,
        "confident_wrong_streak_s": longest_streak_s(flags, stamps_s),
        "acquisition_s": acquisition_s(accepted, correct, stamps_s),
    }
