"""The printed drive summary adds up: correct <= answered, precision = correct / answered, labels and definitions."""

from __future__ import annotations

import re

import numpy as np
import pytest

from vgssl_ros.eval.metrics import DriveOutcome, drive_metrics, metric_definitions
from vgssl_ros.eval.report import format_live, format_metrics
from vgssl_ros.eval.side_by_side import format_side_by_side


def _outcome() -> tuple[DriveOutcome, np.ndarray]:
    """5 frames: 3 accepted (2 within 25 m), 1 rejected with the right place ranked first, 1 with no estimate."""
    places = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [300.0, 0.0], [400.0, 0.0]])
    outcome = DriveOutcome(
        gt_utm=places.copy(),
        est_utm=np.array([[3.0, 4.0], [100.0, 10.0], [0.0, 0.0], [300.0, 0.0], [np.nan, np.nan]]),
        accepted=np.array([True, True, True, False, True]),
        candidates=np.array([[0, 1], [1, 0], [0, 1], [3, 0], [0, 1]]),
        latency_ms=np.full(5, 10.0),
    )
    return outcome, places


def _number(text: str, name: str) -> float:
    return float(re.search(rf"{name} (\d+\.\d)", text).group(1))


def test_rejected_frames_count_for_recall_but_not_for_answered_or_correct() -> None:
    outcome, places = _outcome()
    m = drive_metrics(outcome, places)
    assert m["recall"]["1"] == pytest.approx(60.0)  # frame 3 rejected but ranked right counts; 2 and 4 do not
    assert (m["answered_frames"], m["correct_frames"]) == (3, 2)  # the NaN estimate is not an answer
    line = format_metrics(m)
    answered, correct, precision = (_number(line, k) for k in ("answered", "correct", "precision"))
    assert (answered, correct) == (60.0, 40.0)
    assert correct <= answered
    assert precision == pytest.approx(100 * correct / answered, abs=0.05)


def test_definitions_are_printed_once_under_the_offline_summary() -> None:
    outcome, places = _outcome()
    m = drive_metrics(outcome, places)
    m["filtered"] = drive_metrics(outcome, places)
    text = format_side_by_side(m) + "\n" + metric_definitions(m["radius_m"])
    for word in ("R@N", "answered", "correct", "precision"):
        assert sum(line.startswith(word) for line in text.splitlines()) == 1
    assert "within 25 m" in text and "rejected" in text


def test_live_summary_says_which_answer_each_number_is_of() -> None:
    outcome, places = _outcome()
    m = {**drive_metrics(outcome, places), "settings": {"filter_enabled": True}}
    line = format_live(m)
    recall_part, answer_part, _ = line.split("|")
    assert "single-frame candidates (~/candidates)" in recall_part and "R@1 60.0" in recall_part
    assert "filtered fix (~/fix)" in answer_part and "precision" in answer_part and "R@" not in answer_part
    m["settings"]["filter_enabled"] = False
    assert "single-frame fix (~/fix)" in format_live(m)


def test_robot_lines_per_mode_and_the_gnss_baseline() -> None:
    from vgssl_ros.eval.report import format_robot
    from vgssl_ros.eval.robustness import robustness_metrics

    stamps, gt = np.arange(6) * 0.5, np.stack([np.arange(6) * 10.0, np.zeros(6)], axis=1)
    never = robustness_metrics(np.ones(6, bool), np.zeros(6, bool), np.full(6, 0.95), stamps, gt_utm=gt)
    once = robustness_metrics(np.ones(6, bool), np.array([1, 1, 1, 0, 0, 1], bool), np.full(6, 0.5), stamps, gt_utm=gt)
    metrics = {
        "radius_m": 25.0,
        "robustness": {"single": never, "filtered": once},
        "gnss": {"topic": "/gnss/fix", "frames": 6, "error_median_m": 2.5, "error_p90_m": 4.0},
    }
    single, filtered, gnss = format_robot(metrics)
    assert single.startswith("single") and "never acquired" in single and "1 wrong streak," in single
    assert "none recovered" in single and "100.0 % of frames, longest 3.0 s" in single
    assert "acquired after 0 frames (0.0 s)" in filtered and "longest 2 frames = 1.0 s = 20 m" in filtered
    assert "recovery median 0.5 s, max 0.5 s" in filtered and "0.0 % of frames" in filtered
    assert gnss.startswith("gnss") and "error median 2.5 m  p90 4.0 m (6 frames)" in gnss
    assert format_robot({"radius_m": 25.0}) == []
