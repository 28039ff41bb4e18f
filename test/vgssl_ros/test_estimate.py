"""Estimate from ranked matches: refinement, rejection, covariance."""

import numpy as np
import pytest

from vgssl_ros.core.estimate import EstimatorConfig, estimate_position
from vgssl_ros.core.settings import LocalizerSettings

PLACES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [500.0, 500.0], [1000.0, 0.0]])


def test_weighted_mean_of_agreeing_places():
    est = estimate_position(
        np.array([0.9, 0.6, 0.3, 0.2]), np.array([0, 1, 2, 3]), PLACES, EstimatorConfig(radius_m=25)
    )
    want = (0.9 * PLACES[0] + 0.6 * PLACES[1] + 0.3 * PLACES[2]) / 1.8
    assert np.allclose(est.position, want)
    assert est.accepted and est.agreeing == 3 and est.top1_index == 0
    assert est.margin == pytest.approx(0.9 - 0.2)


def test_covariance_is_spread_plus_floor():
    cfg = EstimatorConfig(radius_m=25, min_std_m=2.0)
    alone = estimate_position(np.array([0.9, 0.1]), np.array([0, 4]), PLACES, cfg)
    assert np.allclose(alone.covariance, np.eye(2) * 4.0)
    spread = estimate_position(np.array([0.5, 0.5]), np.array([0, 1]), PLACES, cfg)
    assert spread.covariance[0, 0] == pytest.approx(25.0 + 4.0)  # two places 10 m apart, equal weights
    assert spread.covariance[1, 1] == pytest.approx(4.0)
    assert np.allclose(spread.covariance, spread.covariance.T)


def test_rejections():
    low = estimate_position(np.array([0.3, 0.1]), np.array([0, 4]), PLACES, EstimatorConfig(min_similarity=0.5))
    assert not low.accepted and "similarity" in low.reason
    ambiguous = estimate_position(np.array([0.80, 0.79]), np.array([0, 4]), PLACES, EstimatorConfig(min_margin=0.05))
    assert not ambiguous.accepted and "margin" in ambiguous.reason
    clear = estimate_position(np.array([0.80, 0.50]), np.array([0, 4]), PLACES, EstimatorConfig(min_margin=0.05))
    assert clear.accepted


def test_padding_and_bad_config():
    est = estimate_position(np.array([0.7, -3.4e38]), np.array([2, -1]), PLACES, EstimatorConfig())
    assert est.top1_index == 2 and np.allclose(est.position, PLACES[2])
    with pytest.raises(ValueError, match=r"match_radius_m=0.0 is out of range \[0.1, 10000\]"):
        LocalizerSettings(match_radius_m=0.0)
    with pytest.raises(ValueError, match="at least one match"):
        estimate_position(np.array([0.0]), np.array([-1]), PLACES, EstimatorConfig())


def test_a_place_exactly_radius_away_agrees():
    places = np.array([[0.0, 0.0], [25.0, 0.0], [0.0, 25.000001]])
    est = estimate_position(np.array([0.9, 0.8, 0.7]), np.array([0, 1, 2]), places, EstimatorConfig(radius_m=25))
    assert est.agreeing == 2  # [25, 0] is exactly radius_m away: it agrees; [0, 25.000001] does not
    assert est.margin == pytest.approx(0.9 - 0.7)
    assert np.allclose(est.position, (0.9 * places[0] + 0.8 * places[1]) / 1.7)


def test_when_all_top_k_agree_the_margin_is_to_the_kth_similarity():
    est = estimate_position(np.array([0.9, 0.6, 0.5]), np.array([0, 1, 2]), PLACES, EstimatorConfig(radius_m=25))
    assert est.agreeing == 3 and est.margin == pytest.approx(0.9 - 0.5)
    # A margin gate of 0.5 must reject: the K-th similarity bounds every place outside the top-K from above.
    gated = estimate_position(
        np.array([0.9, 0.6, 0.5]), np.array([0, 1, 2]), PLACES, EstimatorConfig(radius_m=25, min_margin=0.5)
    )
    assert not gated.accepted and "margin" in gated.reason
    alone = estimate_position(np.array([0.9]), np.array([0]), PLACES, EstimatorConfig(radius_m=25))
    assert alone.margin == pytest.approx(1.9)  # one match: no rival, the lowest cosine (-1) stands in


FAR_OFF = np.array([[600_000.0, 7_000_000.0], [600_010.0, 7_000_000.0], [600_000.0, 7_000_100.0]])


def test_distances_are_to_the_top1_place_anywhere_on_the_map():
    # UTM places far from the origin: agreement is by distance to the top-1 place, not to (0, 0).
    est = estimate_position(np.array([0.9, 0.7, 0.6]), np.array([0, 2, 1]), FAR_OFF, EstimatorConfig(radius_m=25))
    assert est.agreeing == 2 and est.accepted and est.reason == ""
    assert est.margin == pytest.approx(0.9 - 0.7)  # the rival is the best place outside (2nd), not the K-th
    assert np.allclose(est.position, (0.9 * FAR_OFF[0] + 0.6 * FAR_OFF[1]) / 1.5)


def test_spread_is_weighted_by_normalised_similarities_and_floor_is_squared():
    cfg = EstimatorConfig(radius_m=25, min_std_m=3.0)
    est = estimate_position(np.array([0.6, 0.2]), np.array([0, 1]), FAR_OFF, cfg)  # weights 3/4, 1/4, 10 m apart
    assert est.covariance[0, 0] == pytest.approx(0.75 * 0.25 * 100.0 + 9.0)
    assert est.covariance[1, 1] == pytest.approx(9.0) and est.covariance[0, 1] == pytest.approx(0.0)
    assert est.margin == pytest.approx(0.4)  # two agreeing matches: the rival is the K-th (2nd) similarity


def test_negative_similarities_weigh_almost_nothing():
    est = estimate_position(np.array([0.5, -0.2]), np.array([0, 1]), FAR_OFF, EstimatorConfig(radius_m=25))
    assert est.agreeing == 2 and np.allclose(est.position, FAR_OFF[0], atol=1e-3)


def test_a_faiss_row_is_accepted_as_well_as_a_vector():
    row = estimate_position(np.array([[0.9, 0.6, 0.5]]), np.array([[0, 1, 2]]), PLACES, EstimatorConfig())
    flat = estimate_position(np.array([0.9, 0.6, 0.5]), np.array([0, 1, 2]), PLACES, EstimatorConfig())
    assert np.allclose(row.position, flat.position) and row.agreeing == 3 and row.margin == flat.margin


def test_gates_accept_at_their_threshold_and_name_the_values():
    at = estimate_position(np.array([0.75, 0.5]), np.array([0, 4]), PLACES, EstimatorConfig(min_similarity=0.75))
    assert at.accepted  # top-1 equal to min_similarity passes
    edge = estimate_position(np.array([0.75, 0.5]), np.array([0, 4]), PLACES, EstimatorConfig(min_margin=0.25))
    assert edge.accepted  # margin equal to min_margin passes
    low = estimate_position(np.array([0.25, 0.125]), np.array([0, 4]), PLACES, EstimatorConfig(min_similarity=0.5))
    assert low.reason == "top-1 similarity 0.250 < 0.500"
    with pytest.raises(ValueError, match="^estimate_position needs at least one match$"):
        estimate_position(np.array([0.0]), np.array([-1]), PLACES, EstimatorConfig())
