"""`vgssl-eval compare RUN_A RUN_B`: two evaluations of the same drive side by side (models, settings, filter
versions): every metric of metrics.json, then the frames of frames.csv where the two answers disagree."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from vgssl_ros.eval.frames import ACCEPTED, FRAMES_CSV, MODES, read_frames_csv
from vgssl_ros.geo import EVAL_RADIUS_M

ROWS: tuple[tuple[str, str, float, str], ...] = (
    ("frames", "frames", 1, "{:.0f}"),
    ("R@1 %", "recall.1", 1, "{:.1f}"),
    ("R@5 %", "recall.5", 1, "{:.1f}"),
    ("R@10 %", "recall.10", 1, "{:.1f}"),
    ("answered %", "answered_fraction", 100, "{:.1f}"),
    ("correct %", "correct_fraction", 100, "{:.1f}"),
    ("precision %", "precision_answered", 100, "{:.1f}"),
    ("error median m", "error_median_m", 1, "{:.1f}"),
    ("error p90 m", "error_p90_m", 1, "{:.1f}"),
    ("latency p50 ms", "latency_p50_ms", 1, "{:.1f}"),
    ("latency p95 ms", "latency_p95_ms", 1, "{:.1f}"),
    ("acquisition frames", "robustness.MODE.acquisition_frames", 1, "{:.0f}"),
    ("acquisition s", "robustness.MODE.acquisition_s", 1, "{:.1f}"),
    ("wrong streaks", "robustness.MODE.wrong_streaks", 1, "{:.0f}"),
    ("longest wrong frames", "robustness.MODE.longest_wrong_streak_frames", 1, "{:.0f}"),
    ("longest wrong s", "robustness.MODE.longest_wrong_streak_s", 1, "{:.1f}"),
    ("longest wrong m", "robustness.MODE.longest_wrong_streak_m", 1, "{:.0f}"),
    ("recovery median s", "robustness.MODE.recovery_median_s", 1, "{:.1f}"),
    ("recovery max s", "robustness.MODE.recovery_max_s", 1, "{:.1f}"),
    ("unrecovered streaks", "robustness.MODE.unrecovered_streaks", 1, "{:.0f}"),
    ("confidently wrong %", "robustness.MODE.confident_wrong", 100, "{:.1f}"),
    ("confident wrong streak s", "robustness.MODE.confident_wrong_streak_s", 1, "{:.1f}"),
    ("95 % ellipse coverage %", "calibration.MODE.ellipse95_coverage", 100, "{:.1f}"),
)
"""(label, key path in metrics.json with MODE for the mode, scale, format): the rows compared per mode; a mode's
drive metrics are at the top level (single) or under ``filtered``."""
GNSS_ROWS = (("gnss error median m", "gnss.error_median_m"), ("gnss error p90 m", "gnss.error_p90_m"))


def build_parser() -> argparse.ArgumentParser:
    """Options of `vgssl-eval compare`."""
    p = argparse.ArgumentParser(
        prog="vgssl-eval compare",
        description="Print two evaluations of the same drive side by side: every metric of their metrics.json "
        f"(single-frame and filtered) and the frames of their {FRAMES_CSV} where the answers disagree "
        "(one right, the other wrong or rejected).",
    )
    p.add_argument("run_a", help="an --out folder of vgssl-eval")
    p.add_argument("run_b", help="another --out folder of vgssl-eval, on the same drive")
    p.add_argument("--frames", type=int, default=20, help="disagreeing frames listed per mode (default: %(default)s)")
    return p


def compare_main(argv: list[str]) -> int:
    """`vgssl-eval compare`; a missing or foreign run prints one line and exits 2."""
    args = build_parser().parse_args(argv)
    try:
        runs = [_load(Path(r)) for r in (args.run_a, args.run_b)]
        print(format_comparison(runs[0], runs[1], args.run_a, args.run_b, args.frames))
    except ValueError as exc:
        print(f"vgssl-eval compare: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _load(run: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """metrics.json and frames.csv of one --out folder."""
    path = run / "metrics.json"
    if not path.is_file():
        raise ValueError(f"{run} has no metrics.json: pass the --out folder of a vgssl-eval run")
    try:
        metrics = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); evaluate the drive again") from None
    return metrics, read_frames_csv(run / FRAMES_CSV)


def metric_value(metrics: dict[str, Any], mode: str, path: str) -> float:
    """The number at ``path`` (dotted, MODE replaced by ``mode``) for ``mode``; NaN where the run lacks it."""
    node: Any = metrics
    if mode == "filtered" and not path.startswith(("robustness.", "calibration.", "gnss.")):
        node = metrics.get("filtered", {})
    for key in path.replace("MODE", mode).split("."):
        if not isinstance(node, dict) or key not in node:
            return math.nan
        node = node[key]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else math.nan


def format_comparison(
    a: tuple[dict[str, Any], list[dict[str, str]]],
    b: tuple[dict[str, Any], list[dict[str, str]]],
    name_a: str,
    name_b: str,
    max_frames: int = 20,
) -> str:
    """The metric table (A, B, B - A) per mode and the frames where the two runs' answers disagree."""
    (ma, fa), (mb, fb) = a, b
    lines = [f"A: {name_a}  ({ma.get('bag', '?')}, {ma.get('mode', '?')})"]
    lines.append(f"B: {name_b}  ({mb.get('bag', '?')}, {mb.get('mode', '?')})")
    if ma.get("bag") != mb.get("bag"):
        lines.append("warning: the two runs scored different bags; only frames with the same stamp are compared")
    lines.append(f"{'':8s} {'metric':26s} {'A':>10s} {'B':>10s} {'B - A':>10s}")
    for mode in MODES:
        for label, path, scale, fmt in ROWS:
            va, vb = scale * metric_value(ma, mode, path), scale * metric_value(mb, mode, path)
            if math.isnan(va) and math.isnan(vb):
                continue
            diff = vb - va
            cells = [fmt.format(v) if math.isfinite(v) else "-" for v in (va, vb)]
            delta = ("+" if diff > 0 else "") + fmt.format(diff) if math.isfinite(diff) else "-"
            lines.append(f"{mode:8s} {label:26s} {cells[0]:>10s} {cells[1]:>10s} {delta:>10s}")
    for label, path in GNSS_ROWS:
        va, vb = metric_value(ma, "", path), metric_value(mb, "", path)
        if math.isfinite(va) or math.isfinite(vb):
            lines.append(f"{'gnss':8s} {label:26s} {va:>10.1f} {vb:>10.1f}")
    lines += format_disagreements(fa, fb, max_frames, float(ma.get("radius_m", EVAL_RADIUS_M)))
    return "\n".join(lines)


def outcome(row: dict[str, str], mode: str, radius_m: float) -> str:
    """'correct', 'wrong', 'rejected' or '' (no answer of ``mode`` recorded) of one frames.csv row."""
    status, error = row.get(f"{mode}_status", ""), row.get(f"{mode}_error_m", "")
    if not status:
        return ""
    if status != ACCEPTED:
        return "rejected"
    return "correct" if error and float(error) <= radius_m else "wrong"


def format_disagreements(
    a: list[dict[str, str]], b: list[dict[str, str]], max_frames: int, radius_m: float = EVAL_RADIUS_M
) -> list[str]:
    """Per mode, the frames (matched by stamp) where the two runs' outcomes (correct, wrong or rejected within
    ``radius_m``) differ: time since the first common frame, each run's outcome, error and probability."""
    by_stamp = {round(float(r["stamp_s"]), 6): r for r in b}
    common = [(r, by_stamp[round(float(r["stamp_s"]), 6)]) for r in a if round(float(r["stamp_s"]), 6) in by_stamp]
    if not common:
        raise ValueError("the two runs share no frame stamp: compare two evaluations of the same drive")
    lines = [f"frames with ground truth: A {len(a)}, B {len(b)}, both {len(common)}"]
    t0 = float(common[0][0]["stamp_s"])
    for mode in MODES:
        pairs = [(ra, rb, outcome(ra, mode, radius_m), outcome(rb, mode, radius_m)) for ra, rb in common]
        both = [p for p in pairs if p[2] and p[3]]
        if not both:
            continue
        differ = [p for p in both if p[2] != p[3]]
        lines.append(f"{mode}: the answers disagree on {len(differ)} of {len(both)} frames")
        for ra, rb, oa, ob in differ[:max_frames]:
            cells = [f"{oa} {_error(ra, mode)}", f"{ob} {_error(rb, mode)}"]
            lines.append(f"  t {float(ra['stamp_s']) - t0:8.2f} s  A {cells[0]:22s}  B {cells[1]}")
        if len(differ) > max_frames:
            lines.append(f"  ... {len(differ) - max_frames} more (see the two {FRAMES_CSV})")
    return lines


def _error(row: dict[str, str], mode: str) -> str:
    error, probability = row[f"{mode}_error_m"], row[f"{mode}_probability"]
    return (f"{float(error):.0f} m" if error else "-") + (f", p {float(probability):.2f}" if probability else "")
