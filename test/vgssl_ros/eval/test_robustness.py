"""Confidently wrong frames, their longest streak and acquisition time."""

import math

import numpy as np
import pytest

from vgssl_ros.eval.robustness import acquisition_s, confident_wrong, longest_streak_s, robustness_metrics


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
    assert set(m) == {"confident_wrong", "confident_wrong_streak_s", "acquisition_s"}
    assert m["confident_wrong"] == 0.25
    assert m["confident_wrong_streak_s"] == pytest.approx(0.1)
