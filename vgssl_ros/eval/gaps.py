"""Stretches of a live drive the localizer did not answer (a restarted camera or node, lost messages)."""

from __future__ import annotations

from typing import Any

import numpy as np

GAP_S = 1.0
"""Unanswered stretches at least this long (drive time, s) are reported as gaps."""


def unanswered_gaps(stamps: np.ndarray, answered: np.ndarray, min_s: float = GAP_S) -> list[dict[str, Any]]:
    """Runs of unanswered frames lasting >= ``min_s`` s of drive time (from the last answer or start to the next
    answer or end): ``{"start_s", "end_s", "seconds", "frames"}`` per gap, stamps relative to the first frame."""
    stamps = np.asarray(stamps, float)
    answered = np.asarray(answered, bool)
    if len(stamps) != len(answered):
        raise ValueError(f"stamps ({len(stamps)}) and answered ({len(answered)}) must have one entry per frame")
    gaps: list[dict[str, Any]] = []
    if not len(stamps):
        return gaps
    t0, i, n = stamps[0], 0, len(stamps)
    while i < n:
        if answered[i]:
            i += 1
            continue
        j = i
        while j < n and not answered[j]:
            j += 1
        start = stamps[i - 1] if i > 0 else stamps[i]
        end = stamps[j] if j < n else stamps[n - 1]
        if end - start >= min_s:
            gaps.append(
                {"start_s": float(start - t0), "end_s": float(end - t0), "seconds": float(end - start), "frames": j - i}
            )
        i = j
    return gaps


def format_gaps(gaps: list[dict[str, Any]]) -> list[str]:
    """One line per gap (none when the localizer answered throughout)."""
    return [
        f"gap: no answer for {g['frames']} frames, {g['seconds']:.1f} s"
        f" (drive time {g['start_s']:.1f}-{g['end_s']:.1f} s)"
        for g in gaps
    ]
