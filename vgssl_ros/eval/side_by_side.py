"""The report of a drive scored both ways: single-frame and filtered metrics, calibration checks and plots."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.core.calibration import Calibration, mode_probability
from vgssl_ros.core.calibration_checks import calibration_warnings
from vgssl_ros.eval.calibrate import calibration_metrics, fit_score_calibration
from vgssl_ros.eval.calibration_plots import plot_precision_recall, plot_reliability
from vgssl_ros.eval.drive_records import DriveRecords
from vgssl_ros.eval.frame_log import FrameLog, ScoredFrames
from vgssl_ros.eval.metrics import DriveOutcome, drive_metrics
from vgssl_ros.eval.plots import write_plots
from vgssl_ros.eval.report import write_report


def write_side_by_side(
    log: FrameLog,
    single: DriveOutcome,
    places_utm: np.ndarray,
    out: str | Path,
    title: str,
    extra: dict[str, Any],
    calibration: Calibration | None,
    calibrate_out: Path | None = None,
    records: DriveRecords | None = None,
) -> dict[str, Any]:
    """Write OUT/metrics.json (single-frame metrics, with ``filtered`` and ``calibration`` sections and the
    ``records``' sections), trajectory.png, recall.png and error_cdf.png with both answers, precision_recall.png and
    reliability.png; the route panels mark the ``records``' failure stretches; each mode lists its gallery.

    With ``calibrate_out``, fit a calibration on this drive first, save it there and check with it.
    ``calibration.warnings``: why the calibration used may not be trusted (see `calibration_warnings`)."""
    out = Path(out)
    modes = ["single"] + (["filtered"] if log.has("filtered") else [])
    scored = {m: log.scored(m) for m in modes}
    if calibrate_out is not None:
        calibration = Calibration(
            fit_score_calibration(scored["single"]),
            fit_score_calibration(scored["filtered"]) if "filtered" in scored else None,
            source=str(extra.get("bag", "")),
        )
        calibration.save(calibrate_out)
    scored = {m: _with_probabilities(s, calibration, m) for m, s in scored.items()}
    checks, warnings = {}, []
    for m, s in scored.items():
        part = calibration.for_mode(m) if calibration else None
        checks[m] = calibration_metrics(s, part.covariance_scale if part else 1.0)
        warnings += calibration_warnings(part, m) if part else []
    plots = {
        "precision_recall": str(plot_precision_recall(scored, out / "precision_recall.png", title)),
        "reliability": str(plot_reliability(scored, out / "reliability.png", title)),
    }
    sections: dict[str, Any] = {
        "calibration": {
            "source": str(calibrate_out)
            if calibrate_out
            else calibration.source
            if calibration
            else "none (raw scores)",
            **checks,
            "warnings": warnings,
            "plots": plots,
        }
    }
    plots_of = records.plots if records else {}
    outcomes = {"single": single}
    if "filtered" in modes:
        outcomes["filtered"] = log.outcome("filtered", single.latency_ms)
        sections["filtered"] = {
            **drive_metrics(outcomes["filtered"], places_utm),
            "plots": plots_of.get("filtered", {}),
        }
    figures = write_plots(outcomes, places_utm, out, title, records.stretches if records else {})
    sections.update(records.sections if records else {})
    return write_report(single, places_utm, out, {**extra, **sections}, {**figures, **plots_of.get("single", {})})


def _with_probabilities(frames: ScoredFrames, calibration: Calibration | None, mode: str) -> ScoredFrames:
    """``frames`` with probabilities from ``calibration`` (as the node would report them)."""
    part = calibration.for_mode(mode) if calibration else None
    if part is None:
        return frames
    return replace(frames, probabilities=np.array([mode_probability(part, mode, s) for s in frames.scores]))


def format_side_by_side(metrics: dict[str, Any]) -> str:
    """Two lines of Recall@1 and co., single-frame and filtered, plus the ellipse coverage."""
    from vgssl_ros.eval.report import format_metrics, format_robot

    lines = [f"single   {format_metrics(metrics)}"]
    if "filtered" in metrics:
        lines.append(f"filtered {format_metrics(metrics['filtered'])}")
    cal = metrics.get("calibration", {})
    lines += [
        f"{m:8s} 95 % ellipse holds the truth in {100 * c['ellipse95_coverage']:.1f} % of frames "
        f"(covariance x {c['covariance_scale']:.3g}), average precision {c['average_precision']:.3f}"
        for m, c in cal.items()
        if isinstance(c, dict) and "ellipse95_coverage" in c
    ]
    return "\n".join(lines + format_robot(metrics))
