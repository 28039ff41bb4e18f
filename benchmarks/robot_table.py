"""Shared by the filter benchmarks: the robot metrics of one answer (`vgssl_ros.eval.robustness`) as table cells."""

from __future__ import annotations

import math

ROBOT_HEADER = "acquisition | wrong streaks | longest wrong streak | longest confidently wrong | confidently wrong"
"""Column names of `robot_cells`, markdown."""
ROBOT_ALIGN = "---: | ---: | ---: | ---: | ---:"
"""Markdown alignment row of `robot_cells`."""


def robot_cells(r: dict[str, float]) -> str:
    """`robustness_metrics` ``r`` as the markdown cells of ROBOT_HEADER: acquisition frames (s) or 'never', the
    number of wrong streaks, the longest (frames / s / m), the longest confidently wrong streak (s) and the share
    of confidently wrong frames ('unknown' where no probability was known)."""
    frames = r["acquisition_frames"]
    acquired = f"{frames:.0f} ({r['acquisition_s']:.1f} s)" if math.isfinite(frames) else "never"
    longest = "-"
    if r["wrong_streaks"]:
        longest = f"{r['longest_wrong_streak_frames']:.0f} / {r['longest_wrong_streak_s']:.1f} s"
        longest += f" / {r['longest_wrong_streak_m']:.0f} m"
    if math.isfinite(r["confident_wrong"]):
        confident = f"{r['confident_wrong_streak_s']:.1f} s | {100 * r['confident_wrong']:.1f} %"
    else:
        confident = "unknown | unknown"
    return f"{acquired} | {r['wrong_streaks']:.0f} | {longest} | {confident}"
