"""Writing an evaluation: metrics.json and the three plots, atomically, into one output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.eval.metrics import DriveOutcome, drive_metrics
from vgssl_ros.eval.plots import plot_error_cdf, plot_recall_curve, plot_trajectory
from vgssl_ros.io import write_json_atomic


def write_report(
    outcome: DriveOutcome, places_utm: np.ndarray, out: str | Path, title: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """Score ``outcome`` and write OUT/metrics.json, trajectory.png, recall.png, error_cdf.png; returns the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {**drive_metrics(outcome, places_utm), **extra}
    metrics["plots"] = {
        "trajectory": str(plot_trajectory(outcome, places_utm, out / "trajectory.png", title)),
        "recall": str(plot_recall_curve(outcome, places_utm, out / "recall.png", title)),
        "error_cdf": str(plot_error_cdf(outcome, out / "error_cdf.png", title)),
    }
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
    return format_metrics(metrics, "single-frame candidates (~/candidates)", f"{fix} (~/fix)")
