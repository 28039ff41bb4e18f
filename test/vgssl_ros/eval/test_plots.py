"""The evaluation figures: both answers in one figure, titles by folder name, straight routes kept readable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vgssl_ros.eval.metrics import DriveOutcome, top1_outcome
from vgssl_ros.eval.plots import drive_title, route_limits, write_plots

N = 40


def _straight_drive(seed: int, wrong_every: int) -> DriveOutcome:
    """A route due north along one column of places, 10 m apart; every ``wrong_every``-th answer 300 m off."""
    rng = np.random.default_rng(seed)
    gt = np.c_[np.full(N, 450000.0), 7000000.0 + 10.0 * np.arange(N)]
    est = gt + rng.normal(0, 3, (N, 2))
    est[::wrong_every, 1] += 300.0
    candidates = np.clip(np.arange(N)[:, None] + [0, 1, 2], 0, N - 1)
    return DriveOutcome(gt, est, np.ones(N, bool), candidates, np.ones(N))


def test_titles_name_bag_and_map_by_folder():
    assert drive_title("/data/runs/drive_dusk/", "/maps/summer_map") == "drive_dusk vs summer_map"
    assert drive_title("bags/d1", "m", "live") == "d1 vs m (live)"


@pytest.mark.parametrize(
    "points", [np.c_[np.zeros(50), np.arange(50) * 100.0], np.c_[np.arange(50) * 100.0, np.zeros(50)]]
)
def test_a_straight_route_gets_a_box_at_most_three_times_longer_than_wide(points):
    limits = route_limits(points)
    spans = limits[:, 1] - limits[:, 0]
    assert spans.max() / spans.min() == pytest.approx(3.0)
    assert (limits[:, 0] <= points.min(axis=0)).all() and (limits[:, 1] >= points.max(axis=0)).all()


def test_both_answers_are_drawn_once_in_out(tmp_path):
    places = np.c_[np.full(N, 450000.0), 7000000.0 + 10.0 * np.arange(N)]
    outcomes = {"single": _straight_drive(0, 4), "filtered": _straight_drive(1, 20)}
    paths = write_plots(outcomes, places, tmp_path, "drive vs map", {"single": [(4, 4)], "filtered": []})
    assert set(paths) == {"trajectory", "recall", "error_cdf"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["error_cdf.png", "recall.png", "trajectory.png"]
    route = cv2.imread(paths["trajectory"])
    h, w = route.shape[:2]
    assert 0.5 < w / h < 3.5  # a 390 m north-south line as two readable panels, not a 1-pixel strip
    orange = np.array([14, 127, 255])  # BGR of tab:orange: the filtered curves
    for name in ("recall", "error_cdf"):
        img = cv2.imread(paths[name]).astype(int)
        assert (np.abs(img - orange).sum(axis=2) < 40).sum() > 50, name  # the filtered curve is drawn


def test_top1_outcome_puts_each_frame_at_its_first_candidate():
    places = np.c_[np.arange(5) * 10.0, np.zeros(5)]
    outcome = DriveOutcome(
        np.zeros((3, 2)), np.full((3, 2), np.nan), np.zeros(3, bool), np.array([[2, 1], [-1, -1], [4, 0]]), np.ones(3)
    )
    top1 = top1_outcome(outcome, places)
    np.testing.assert_array_equal(top1.accepted, [True, False, True])
    np.testing.assert_array_equal(top1.est_utm[[0, 2]], [[20.0, 0.0], [40.0, 0.0]])
    assert np.isnan(top1.est_utm[1]).all()
