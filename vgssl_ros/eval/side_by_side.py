"""The report of a drive scored both ways: single-frame and filtered metrics, calibration checks and plots."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.core.calibration import Calibration
from vgssl_ros.eval.calibrate import calibration_metrics, calibration_warnings, fit_score_calibration
from vgssl_ros.eval.calibration_plots import plot_precision_recall, plot_reliability
from vgssl_ros.eval.frame_log import FrameLog, ScoredFrames
from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.eval.report import write_report
from vgssl_ros.eval.robustness import CONFIDENT
from vgssl_ros.geo import EVAL_RADIUS_M


def write_side_by_side(
    log: FrameLog,
    single: DriveOutcome,
    places_utm: np.ndarray,
    out: str | Path,
    title: str,
    extra: dict[str, Any],
    calibration: Calibration | None,
    calibrate_out: Path | None = None,
) -> dict[str, Any]:
    """Write OUT/metrics.json (single-frame metrics, with ``filtered`` and ``calibration`` sections),
    OUT/filtered/ (the filtered drive's report), precision_recall.png and reliability.png.

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
    sections["robustness"] = {m: log.robustness(m, EVAL_RADIUS_M) for m in modes}
    if "filtered" in modes:
        sections["filtered"] = write_report(
            log.outcome("filtered", single.latency_ms), places_utm, out / "filtered", f"{title} (filtered)", {}
        )
    return write_report(single, places_utm, out, title, {**extra, **sections})


def _with_probabilities(frames: ScoredFrames, calibration: Calibration | None, mode: str) -> ScoredFrames:
    """``frames`` with probabilities from ``calibration`` (as the node would report them)."""
    part = calibration.for_mode(mode) if calibration else None
    if part is None:
        return frames
    return replace(frames, probabilities=np.array([part.probability(s) for s in frames.scores]))


def format_side_by_side(metrics: dict[str, Any]) -> str:
    """Two lines of Recall@1 and co., single-frame and filtered, plus the ellipse coverage."""
    from vgssl_ros.eval.report import format_metrics

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
    lines += [
        f"{m:8s} confidently wrong (published, > 25 m off, probability >= {CONFIDENT}) in "
        f"{100 * r['confident_wrong']:.1f} % of frames, longest streak {r['confident_wrong_streak_s']:.1f} s; "
        f"first 3 right fixes in a row after {r['acquisition_s']:.1f} s"
        for m, r in metrics.get("robustness", {}).items()
    ]
    return "\n".join(lines)
