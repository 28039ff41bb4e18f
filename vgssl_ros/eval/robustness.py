"""How a drive's answers fail: acquisition, wrong streaks and recovery, confidently wrong frames.

A frame is *wrong* when its answer was published (accepted) and lies outside the evaluation radius of the truth;
a *wrong streak* is a run of consecutive wrong frames (a right or a rejected frame ends it). A wrong frame is
*confidently wrong* when it also claims a (calibrated) probability of at least ``confident`` of being right: the
failure a robot cannot see coming. Durations are measured in seconds of stamps, so they read the same at any camera
rate; a run lasts from its first stamp to one frame period past its last.
"""

from __future__ import annotations

import numpy as np

CONFIDENT = 0.9
"""Probability from which a published answer counts as confident."""
UNKNOWN_CONFIDENCE = {"confident_wrong": float("nan"), "confident_wrong_streak_s": float("nan")}
"""The confidently wrong metrics of answers whose probability is unknown (a live run: ~/fix carries none)."""
ACQUISITION_RUN = 3
"""Consecutive right published answers that count as acquired (one lucky right answer does not)."""


def confident_wrong(
    accepted: np.ndarray, correct: np.ndarray, probability: np.ndarray, confident: float = CONFIDENT
) -> np.ndarray:
    """Per frame [N] (bool): published, wrong and claiming probability >= ``confident``."""
    return np.asarray(accepted, bool) & ~np.asarray(correct, bool) & (np.asarray(probability, float) >= confident)


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame indices, inclusive, of each run of consecutive true ``flags`` [N], in order."""
    edges = np.diff(np.concatenate([[0], np.asarray(flags, bool).astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist()))


def frame_period_s(stamps_s: np.ndarray) -> float:
    """Median time between frames (s); 0 with fewer than two frames."""
    return float(np.median(np.diff(stamps_s))) if len(stamps_s) > 1 else 0.0


def run_seconds(stamps_s: np.ndarray, first: int, last: int) -> float:
    """Seconds from frame ``first``'s stamp to one frame period past frame ``last``'s."""
    stamps = np.asarray(stamps_s, float)
    return float(stamps[last] - stamps[first]) + frame_period_s(stamps)


def run_metres(gt_utm: np.ndarray, first: int, last: int) -> float:
    """Metres travelled along the true path [N, 2] from frame ``first`` to one (median) step past frame ``last``."""
    steps = np.linalg.norm(np.diff(np.asarray(gt_utm, float), axis=0), axis=1)
    median_step = float(np.median(steps)) if len(steps) else 0.0
    return float(steps[first:last].sum()) + median_step


def longest_streak_s(flags: np.ndarray, stamps_s: np.ndarray) -> float:
    """Longest run of consecutive true ``flags`` [N], in seconds from its first to one frame past its last stamp
    [N] (a single flagged frame lasts one frame period); 0 when none is flagged."""
    return max((run_seconds(stamps_s, a, b) for a, b in runs(flags)), default=0.0)


def acquisition_frame(accepted: np.ndarray, correct: np.ndarray, run: int = ACQUISITION_RUN) -> int | None:
    """Index of the first of ``run`` consecutive published right answers (frames before it); None if never."""
    good = np.asarray(accepted, bool) & np.asarray(correct, bool)
    for i in range(len(good) - run + 1):
        if good[i : i + run].all():
            return i
    return None


def acquisition_s(accepted: np.ndarray, correct: np.ndarray, stamps_s: np.ndarray, run: int = ACQUISITION_RUN) -> float:
    """Seconds from the first frame until the first of ``run`` consecutive published right answers; NaN if never."""
    i = acquisition_frame(accepted, correct, run)
    stamps = np.asarray(stamps_s, float)
    return float("nan") if i is None else float(stamps[i] - stamps[0])


def recoveries_s(accepted: np.ndarray, correct: np.ndarray, stamps_s: np.ndarray) -> list[float]:
    """Per wrong streak that a right published answer follows: seconds from its last wrong frame to that answer."""
    good = np.asarray(accepted, bool) & np.asarray(correct, bool)
    wrong = np.asarray(accepted, bool) & ~np.asarray(correct, bool)
    stamps = np.asarray(stamps_s, float)
    out = []
    for _, last in runs(wrong):
        after = np.flatnonzero(good[last + 1 :])
        if after.size:
            out.append(float(stamps[last + 1 + after[0]] - stamps[last]))
    return out


def robustness_metrics(
    accepted: np.ndarray,
    correct: np.ndarray,
    probability: np.ndarray,
    stamps_s: np.ndarray,
    confident: float = CONFIDENT,
    gt_utm: np.ndarray | None = None,
) -> dict[str, float]:
    """How one drive's answers fail, all [N]: ``accepted``, ``correct`` (within the radius), ``probability``
    (NaN where unknown), ``stamps_s`` and the true path ``gt_utm`` [N, 2] (for metres; NaN without it).

    Acquisition (frames and s to the first of ACQUISITION_RUN right published answers), wrong streaks (count,
    longest in frames, s and m), recovery after them (median, max s; streaks never recovered), confidently wrong
    share of frames and its longest streak (s; both NaN when no probability is known). Answered share and precision:
    `drive_metrics`."""
    accepted, correct = np.asarray(accepted, bool), np.asarray(correct, bool)
    flags = confident_wrong(accepted, correct, probability, confident)
    wrong = runs(accepted & ~correct)
    longest = max(wrong, key=lambda r: (r[1] - r[0], -r[0]), default=None)
    recovered = recoveries_s(accepted, correct, stamps_s)
    first = acquisition_frame(accepted, correct)
    nan = float("nan")
    return {
        "acquisition_frames": nan if first is None else float(first),
        "acquisition_s": acquisition_s(accepted, correct, stamps_s),
        "wrong_streaks": float(len(wrong)),
        "longest_wrong_streak_frames": 0.0 if longest is None else float(longest[1] - longest[0] + 1),
        "longest_wrong_streak_s": 0.0 if longest is None else run_seconds(stamps_s, *longest),
        "longest_wrong_streak_m": (0.0 if longest is None else nan if gt_utm is None else run_metres(gt_utm, *longest)),
        "recovery_median_s": float(np.median(recovered)) if recovered else nan,
        "recovery_max_s": float(np.max(recovered)) if recovered else nan,
        "unrecovered_streaks": float(len(wrong) - len(recovered)),
        "confident_wrong": float(flags.mean()) if len(flags) else 0.0,
        "confident_wrong_streak_s": longest_streak_s(flags, stamps_s),
    } | ({} if np.isfinite(probability).any() or not len(flags) else UNKNOWN_CONFIDENCE)
