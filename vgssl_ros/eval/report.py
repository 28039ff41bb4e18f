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


def format_metrics(metrics: dict[str, Any]) -> str:
    """A short human-readable summary of drive metrics."""
    r = metrics["recall"]
    return (
        f"{metrics['frames']} frames  R@1 {r['1']:.1f}  R@5 {r['5']:.1f}  R@10 {r['10']:.1f}  "
        f"answered {100 * metrics['answered_fraction']:.1f} %  precision {100 * metrics['precision_answered']:.1f} %  "
        f"median error {metrics['error_median_m']:.1f} m  p90 {metrics['error_p90_m']:.1f} m  "
        f"latency p50 {metrics['latency_p50_ms']:.1f} ms  p95 {metrics['latency_p95_ms']:.1f} ms"
    )
