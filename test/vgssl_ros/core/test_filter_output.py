"""The filter's published answer: rejection of out-of-order and lost states, the reported covariance."""

from dataclasses import replace

import numpy as np
import pytest

from vgssl_ros.core.filter.output import filtered_answer, reported_covariance
from vgssl_ros.core.filter.state import FilterState, FilterStatus


def _state(status: FilterStatus = FilterStatus.TRACKING) -> FilterState:
    return FilterState(
        position=np.array([100.0, 200.0]),
        covariance=np.array([[4.0, 1.0], [1.0, 9.0]]),
        confidence=0.9,
        belief=0.95,
        place=7,
        candidates=np.array([7, 8]),
        lost_mass=0.05,
        support=12,
        status=status,
        frames=30,
        anywhere=np.array([[400.0, 20.0], [20.0, 900.0]]),
    )


def test_reported_covariance_adds_the_wrong_answer_share_of_the_map_spread():
    cov = reported_covariance(_state(), probability=0.75, covariance_scale=2.0, min_std_m=3.0)
    want = 2.0 * np.array([[4.0, 1.0], [1.0, 9.0]]) + 0.25 * np.array([[400.0, 20.0], [20.0, 900.0]]) + 9.0 * np.eye(2)
    assert np.allclose(cov, want)
    sure = reported_covariance(_state(), probability=1.0, covariance_scale=2.0, min_std_m=3.0)
    assert np.allclose(sure, 2.0 * np.array([[4.0, 1.0], [1.0, 9.0]]) + 9.0 * np.eye(2))
    unknown = reported_covariance(_state(), probability=float("nan"), covariance_scale=1.0, min_std_m=0.0)
    assert np.allclose(unknown, np.array([[404.0, 21.0], [21.0, 909.0]]))  # NaN probability: as if surely wrong


@pytest.mark.parametrize(
    ("status", "reason"), [(FilterStatus.LOST, "filter lost"), (FilterStatus.OUT_OF_ORDER, "not newer")]
)
def test_lost_and_out_of_order_states_are_rejected_whatever_the_probability(status, reason):
    answer = filtered_answer(
        _state(status), probability=0.99, covariance_scale=1.0, min_confidence=0.5, min_std_m=5.0, heading_deg=90.0
    )
    assert not answer.accepted and reason in answer.reason
    assert answer.place == 7 and answer.mode == "filtered" and np.allclose(answer.position, [100.0, 200.0])


def test_tracking_state_is_gated_by_min_confidence_only():
    args = {"covariance_scale": 1.0, "min_std_m": 5.0, "heading_deg": 90.0}
    assert filtered_answer(_state(), probability=0.6, min_confidence=0.5, **args).accepted
    low = filtered_answer(_state(), probability=0.4, min_confidence=0.5, **args)
    assert not low.accepted and "0.400 < 0.500" in low.reason


def test_probability_outside_0_1_is_clipped_before_widening():
    anywhere = np.array([[400.0, 20.0], [20.0, 900.0]])
    below = reported_covariance(_state(), probability=-0.5, covariance_scale=0.0, min_std_m=0.0)
    assert np.allclose(below, anywhere)  # as if p = 0, not 1.5 x the spread
    above = reported_covariance(_state(), probability=1.5, covariance_scale=0.0, min_std_m=0.0)
    assert np.allclose(above, 0.0)  # as if p = 1, not minus half the spread


def test_accepted_answer_carries_the_state_heading_and_reported_covariance():
    state = replace(_state(), position=np.array([100, 200]))  # integer positions are published as floats
    answer = filtered_answer(
        state, probability=0.5, covariance_scale=2.0, min_confidence=0.5, min_std_m=3.0, heading_deg=45.0
    )
    assert answer.accepted and answer.reason == ""  # probability equal to min_confidence passes
    assert answer.position.dtype == np.float64 and answer.heading_deg == 45.0 and answer.probability == 0.5
    assert np.allclose(answer.covariance, reported_covariance(state, 0.5, 2.0, 3.0))
    late = filtered_answer(
        _state(FilterStatus.OUT_OF_ORDER), 0.9, covariance_scale=1.0, min_confidence=0.5, min_std_m=3.0, heading_deg=0
    )
    assert late.reason == "frame stamp not newer than the last frame's: ignored by the filter, no fresh fix"
