"""Writing an evaluation: metrics.json (with the paths of the plots written beside it), atomically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.eval.gaps import format_gaps
from vgssl_ros.eval.metrics import DriveOutcome, drive_metrics
from vgssl_ros.eval.robustness import ACQUISITION_RUN, CONFIDENT
from vgssl_ros.geo import EVAL_RADIUS_M
from vgssl_ros.io import write_json_atomic


def write_report(
    outcome: DriveOutcome, places_utm: np.ndarray, out: str | Path, extra: dict[str, Any], plots: dict[str, str]
) -> dict[str, Any]:
    """Score ``outcome`` and write OUT/metrics.json with ``extra`` sections and the ``plots`` already written (name
    -> path). Returns the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {**drive_metrics(outcome, places_utm), **extra, "plots": dict(plots)}
    write_json_atomic(out / "metrics.json", metrics)
    return metrics


def format_metrics(metrics: dict[str, Any], recall_of: str = "", answer_of: str = "") -> str:
    """One line of drive metrics; ``recall_of`` / ``answer_of`` name which answer the R@N and the
    answered/correct/precision/error numbers are of, where the line mixes two (live mode)."""
    r = metrics["recall"]
    recall = f"R@1 {r['1']:.1f}  R@5 {r['5']:.1f}  R@10 {r['10']:.1f}"
    answer = (
        f"answered {100 * metrics['answered_fraction']:.1f} %  correct {100 * metrics['correct_fraction']:.1f} %  "
        f"precision {100 * metrics['precision_answered']:.1f} %  "
        f"median error {metrics['error_median_m']:.1f} m  p90 {metrics['error_p90_m']:.1f} m"
    )
    if recall_of or answer_of:
        recall, answer = f"{recall_of}: {recall}  |", f"{answer_of}: {answer}  |"
    return (
        f"{metrics['frames']} frames  {recall}  {answer}  "
        f"latency p50 {metrics['latency_p50_ms']:.1f} ms  p95 {metrics['latency_p95_ms']:.1f} ms"
    )


def format_live(metrics: dict[str, Any]) -> str:
    """The live summary: R@N of the node's single-frame candidates, the rest of the fix it published."""
    fix = "filtered fix" if metrics.get("settings", {}).get("filter_enabled", True) else "single-frame fix"
    line = format_metrics(metrics, "single-frame candidates (~/candidates)", f"{fix} (~/fix)")
    return "\n".join([line, *format_robot(metrics), *format_gaps(metrics.get("gaps", []))])


def format_robot(metrics: dict[str, Any]) -> list[str]:
    """Per mode one line of the robot metrics (metrics['robustness'], see `robustness_metrics`), and the GNSS
    baseline's errors where the drive had one."""
    lines = []
    radius = f"{metrics.get('radius_m', EVAL_RADIUS_M):g} m"
    for mode, r in metrics.get("robustness", {}).items():
        acquired = (
            f"acquired after {r['acquisition_frames']:.0f} frames ({r['acquisition_s']:.1f} s)"
            if math.isfinite(r["acquisition_frames"])
            else f"never acquired ({ACQUISITION_RUN} right fixes in a row)"
        )
        streaks = f"{r['wrong_streaks']:.0f} wrong streak{'' if r['wrong_streaks'] == 1 else 's'}"
        if r["wrong_streaks"]:
            streaks += (
                f", longest {r['longest_wrong_streak_frames']:.0f} frames = {r['longest_wrong_streak_s']:.1f} s"
                f" = {r['longest_wrong_streak_m']:.0f} m"
            )
            recovered = r["wrong_streaks"] - r["unrecovered_streaks"]
            streaks += (
                f"; recovery median {r['recovery_median_s']:.1f} s, max {r['recovery_max_s']:.1f} s"
                if recovered
                else "; none recovered"
            )
            streaks += (
                f" ({r['unrecovered_streaks']:.0f} never recovered)" if recovered and r["unrecovered_streaks"] else ""
            )
        confident = f"confidently wrong (published, > {radius} off, probability >= {CONFIDENT}) " + (
            f"{100 * r['confident_wrong']:.1f} % of frames, longest {r['confident_wrong_streak_s']:.1f} s"
            if math.isfinite(r["confident_wrong"])
            else "unknown: no probability was published"
        )
        lines.append(f"{mode:8s} {acquired} | {streaks} | {confident}")
    gnss = metrics.get("gnss")
    if gnss:
        lines.append(
            f"{'gnss':8s} {gnss['topic']} error median {gnss['error_median_m']:.1f} m  p90 {gnss['error_p90_m']:.1f} m "
            f"({gnss['frames']} frames): the baseline beside the median/p90 error above"
        )
    return lines
