"""The standing-still detector (motion.py) by hand: views on a circle, so each view change is 1 - cos(angle)."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.core.filter.motion import MotionDetector
from vgssl_ros.core.filter.tuning import UNSURE_RATE_FACTOR, VIEW_CHANGE_RATE, VIEW_LAG


def view(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle)]) * 3.0  # not unit length: the detector normalises


def test_first_views_say_moving_then_the_typical_change_is_learned():
    d = MotionDetector()
    angles = [0.1 * k for k in range(VIEW_LAG + 1)]
    assert [d.share(view(a), 0.25) for a in angles] == [1.0] * (VIEW_LAG + 1)
    assert d.view_change == pytest.approx(1 - np.cos(0.1 * VIEW_LAG))  # the first change over VIEW_LAG frames


def test_share_between_still_and_moving_on_a_dense_drive():
    d = MotionDetector()
    angles = [0.1 * k for k in range(VIEW_LAG + 1)]
    for a in angles:
        d.share(view(a), 0.25)
    typical = 1 - np.cos(0.1 * VIEW_LAG)
    # 0.45 x the typical change: halfway between STILL_RATIO 0.3 and MOVING_RATIO 0.6
    a = angles[1] + np.arccos(1 - 0.45 * typical)
    assert d.share(view(a), 0.25) == pytest.approx(0.5)  # 0.25 spacings per frame: dense, the share as measured
    assert d.view_change == pytest.approx(typical + UNSURE_RATE_FACTOR * VIEW_CHANGE_RATE * (0.45 - 1) * typical)
    vc = d.view_change
    a2 = angles[2] + np.arccos(1 - 0.45 * vc)
    assert d.share(view(a2), 0.75) == pytest.approx(0.75)  # 0.75 spacings per frame: half dense, 1 - 0.5 x 0.5


def test_moving_views_teach_the_typical_change_at_the_full_rate():
    d = MotionDetector()
    for k in range(VIEW_LAG + 1):
        d.share(view(0.1 * k), 0.25)
    typical = 1 - np.cos(0.1 * VIEW_LAG)
    assert d.share(view(0.1 * (VIEW_LAG + 1) + 0.5), 0.25) == 1.0  # a bigger change than typical: moving
    change = 1 - np.cos(0.1 * (VIEW_LAG + 1) + 0.5 - 0.1)
    assert d.view_change == pytest.approx(typical + VIEW_CHANGE_RATE * (change - typical))


def test_standing_still_is_zero_on_a_dense_drive_and_unseen_on_a_sparse_one():
    for speed, expected in ((0.25, 0.0), (1.0, 1.0), (2.5, 1.0), (None, 1.0)):
        d = MotionDetector()
        for k in range(VIEW_LAG + 1):
            d.share(view(0.1 * k), speed)
        shares = [d.share(view(0.1 * VIEW_LAG), speed) for _ in range(VIEW_LAG + 1)]
        assert shares[-1] == pytest.approx(expected)


def test_reset_forgets_views_and_the_typical_change():
    d = MotionDetector()
    for k in range(VIEW_LAG + 2):
        d.share(view(0.1 * k), 0.25)
    d.reset()
    assert d.view_change is None and len(d.views) == 0
    assert d.share(view(0.0), 0.25) == 1.0
