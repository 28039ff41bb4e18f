"""Acquisition, wrong streaks and recovery, confidently wrong frames and their longest streak."""

import math

import numpy as np
import pytest

from vgssl_ros.eval.robustness import (
    acquisition_s,
    confident_wrong,
    longest_streak_s,
    recoveries_s,
    robustness_metrics,
    run_metres,
    runs,
)


def test_confident_wrong_needs_published_wrong_and_confident():
    accepted = np.array([1, 1, 1, 0, 1], bool)
    correct = np.array([0, 1, 0, 0, 0], bool)
    prob = np.array([0.95, 0.99, 0.5, 0.99, 0.9])
    assert confident_wrong(accepted, correct, prob).tolist() == [True, False, False, False, True]


def test_longest_streak_in_seconds_counts_one_frame_period_per_run():
    stamps = np.arange(10) * 0.1
    flags = np.array([1, 1, 0, 1, 1, 1, 1, 0, 0, 1], bool)
    assert longest_streak_s(flags, stamps) == pytest.approx(0.4)  # frames 3..6: 0.3 s apart + one period
    assert longest_streak_s(np.zeros(10, bool), stamps) == 0.0
    assert longest_streak_s(np.ones(10, bool), stamps) == pytest.approx(1.0)  # runs to the last frame


def test_acquisition_is_the_first_of_three_right_published_fixes():
    stamps = np.arange(8) * 0.5
    accepted = np.array([1, 1, 1, 0, 1, 1, 1, 1], bool)
    correct = np.array([1, 1, 0, 1, 1, 1, 1, 1], bool)
    assert acquisition_s(accepted, correct, stamps) == pytest.approx(2.0)  # frames 4, 5, 6
    assert math.isnan(acquisition_s(accepted, np.zeros(8, bool), stamps))


def test_metrics_of_one_drive():
    stamps = np.arange(4) * 0.1
    m = robustness_metrics(
        np.array([1, 1, 0, 1], bool), np.array([1, 0, 0, 1], bool), np.array([0.95, 0.95, 0.2, 0.6]), stamps
    )
    assert {"confident_wrong", "confident_wrong_streak_s", "acquisition_s"} <= set(m)  # benchmarks read these
    assert m["confident_wrong"] == 0.25
    assert m["confident_wrong_streak_s"] == pytest.approx(0.1)
    assert math.isnan(m["acquisition_frames"]) and math.isnan(m["longest_wrong_streak_m"])  # no path given


def test_runs_are_first_and_last_inclusive():
    assert runs(np.array([1, 1, 0, 0, 1, 0, 1], bool)) == [(0, 1), (4, 4), (6, 6)]
    assert runs(np.zeros(3, bool)) == [] and runs(np.ones(2, bool)) == [(0, 1)]


def test_wrong_streaks_longest_in_frames_seconds_and_metres_and_recovery():
    # 12 frames 0.5 s and 2 m apart; r = right, w = published wrong, - = rejected
    #           r  w  w  r  r  r  w  w  w  -  -  r
    accepted = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1], bool)
    correct = np.array([1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1], bool)
    stamps = np.arange(12) * 0.5
    gt = np.stack([np.arange(12) * 2.0, np.zeros(12)], axis=1)
    m = robustness_metrics(accepted, correct, np.full(12, 0.5), stamps, gt_utm=gt)
    assert m["wrong_streaks"] == 2 and m["longest_wrong_streak_frames"] == 3
    assert m["longest_wrong_streak_s"] == pytest.approx(1.5) and m["longest_wrong_streak_m"] == pytest.approx(6.0)
    assert recoveries_s(accepted, correct, stamps) == pytest.approx([0.5, 1.5])  # frame 2 -> 3; frame 8 -> 11
    assert m["recovery_median_s"] == pytest.approx(1.0) and m["recovery_max_s"] == pytest.approx(1.5)
    assert m["unrecovered_streaks"] == 0 and m["confident_wrong"] == 0.0  # probability 0.5: never confident
    assert (m["acquisition_frames"], m["acquisition_s"]) == (3.0, pytest.approx(1.5))  # frames 3, 4, 5


def test_a_streak_at_the_end_is_not_recovered_and_its_metres_add_one_step():
    accepted = np.ones(5, bool)
    correct = np.array([1, 1, 1, 0, 0], bool)
    gt = np.stack([np.array([0.0, 1.0, 2.0, 4.0, 7.0]), np.zeros(5)], axis=1)
    m = robustness_metrics(accepted, correct, np.ones(5), np.arange(5.0), gt_utm=gt)
    assert m["unrecovered_streaks"] == 1 and math.isnan(m["recovery_median_s"])
    unknown = robustness_metrics(accepted, correct, np.full(5, np.nan), np.arange(5.0))  # live: ~/fix has none
    assert math.isnan(unknown["confident_wrong"]) and math.isnan(unknown["confident_wrong_streak_s"])
    assert unknown["wrong_streaks"] == 1
    assert run_metres(gt, 3, 4) == pytest.approx(3.0 + 1.5)  # 4 -> 7, plus the median step (1, 1, 2, 3)
    assert m["confident_wrong"] == pytest.approx(0.4) and m["confident_wrong_streak_s"] == pytest.approx(2.0)
