"""Evaluation radius: a place or estimate 24.9 m from the ground truth is correct, 25.5 m is not.

(Recall positives are strictly closer than the radius, grid.pairs_within; answered estimates count as correct
up to and including it, drive_metrics.)"""

import numpy as np
import pytest

from vgssl_ros.eval.metrics import DriveOutcome, drive_metrics
from vgssl_ros.geo import neighbours_within


def test_drive_metrics_count_correct_within_25_m_only():
    gt = np.zeros((3, 2))
    places = np.array([[0.0, 24.9], [0.0, 25.5], [0.0, 500.0]])
    outcome = DriveOutcome(
        gt_utm=gt,
        est_utm=np.array([[0.0, 25.0], [0.0, 25.5], [0.0, 24.0]]),
        accepted=np.array([True, True, True]),
        candidates=np.array([[0, 2], [1, 2], [2, 1]]),
        latency_ms=np.ones(3),
    )
    m = drive_metrics(outcome, places)
    assert m["radius_m"] == 25.0 and m["correct_frames"] == 2
    assert m["recall"]["1"] == pytest.approx(100.0 / 3)  # only place 0 (24.9 m away) is a positive
    assert m["recall"]["5"] == pytest.approx(100.0 / 3)


def test_neighbours_within_is_strict_and_sorted_by_distance():
    db = np.array([[0.0, 24.99], [0.0, 3.0], [0.0, 25.0], [0.0, -10.0]])
    (near,) = neighbours_within(np.zeros((1, 2)), db, 25.0)
    assert near.tolist() == [1, 3, 0]
