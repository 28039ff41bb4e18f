"""PlaceFilter.seed_around: an initial pose helps from the first frame, and a wrong one is recovered from."""

from __future__ import annotations

import numpy as np
import pytest

from test.vgssl_ros.core.test_filter import correct, drive, make_filter, world

NOISE = 0.35  # single frames are often wrong (see the first assertion)
ROUTE = list(range(20, 60))


def hits(states, utm: np.ndarray) -> np.ndarray:
    """Per frame [T]: the filtered answer is within 25 m of the true place."""
    return np.array([correct(s, utm, p) for s, p in zip(states, ROUTE)])


def test_a_right_initial_pose_is_correct_from_the_first_frame():
    utm, desc = world()
    unseeded, single = drive(make_filter(utm, desc, seed_k=20), desc, ROUTE, NOISE)
    assert not hits(unseeded, utm)[0] and np.mean(np.abs(single - ROUTE) <= 2) < 0.7  # without it frame 0 is wrong
    f = make_filter(utm, desc, seed_k=20)
    assert f.seed_around(utm[ROUTE[0]] + [3.0, -4.0], np.diag([25.0, 25.0])) >= 3  # places within 3 sigma
    assert f.belief.lost == pytest.approx(0.1) and f.belief.hyp.mass.sum() == pytest.approx(0.9)
    assert f.belief.hyp.place[np.argmax(f.belief.hyp.mass)] == ROUTE[0]
    assert hits(drive(f, desc, ROUTE, NOISE)[0], utm).all()


def test_a_wrong_initial_pose_far_away_is_recovered_from():
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    f.seed_around(utm[250], np.diag([25.0, 25.0]))  # 2.3 km from the truth
    ok = hits(drive(f, desc, ROUTE, NOISE)[0], utm)
    assert not ok[0] and ok[10:].all()  # believed at first, then the images win


def test_a_zero_covariance_seeds_the_nearest_place_and_bad_input_is_refused():
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20, max_support=50)
    between = (utm[40] + utm[41]) / 2 + [0.0, 1.0]
    assert f.seed_around(between, np.zeros((2, 2)), sigmas=0.01) == 1  # the map's resolution still applies
    assert f.belief.hyp.place.tolist() == [41]
    assert f.seed_around(utm[100], np.diag([1e8, 1e8])) == 50  # at most max_support hypotheses
    for position, cov in (
        ([np.nan, 0.0], np.eye(2)),
        (utm[0], np.array([[1.0, np.inf], [np.inf, 1.0]])),
        (utm[0], np.diag([-4.0, 1.0])),  # not positive semi-definite
        (utm[0], np.array([[1.0, 2.0], [0.0, 1.0]])),  # not symmetric
        (utm[0], np.eye(3)),
    ):
        with pytest.raises(ValueError, match="initial pose"):
            f.seed_around(np.asarray(position), cov)


def test_seeding_keeps_places_within_sigmas_of_the_pose_widened_by_the_map_resolution():
    """Zero covariance, min_std_m 5 m, 3 sigma: places 14 m away are kept (d2 7.84), 20 m away not (d2 16); the
    masses fall off as the Gaussian, exp(-d2 / 2); a position given as [1, 2] is read as [2]."""
    offsets = np.array([0.0, 14.0, 20.0, 40.0, 60.0, 80.0])
    utm = np.stack([np.zeros(6), offsets], axis=1) + [450000.0, 7250000.0]
    _, desc = world(n=6)
    f = make_filter(utm, desc)
    assert f.seed_around(utm[:1], np.zeros((2, 2))) == 2
    assert sorted(f.belief.hyp.place.tolist()) == [0, 1]
    mass = dict(zip(f.belief.hyp.place.tolist(), f.belief.hyp.mass))
    assert mass[1] / mass[0] == pytest.approx(np.exp(-0.5 * 14.0**2 / 25.0))
    assert mass[0] + mass[1] == pytest.approx(0.9)


@pytest.mark.parametrize("lost_mass, sigmas", [(0.0, 3.0), (1.0, 3.0), (1.5, 3.0), (0.5, 0.0), (0.5, -1.0)])
def test_seeding_refuses_a_lost_mass_outside_0_1_or_sigmas_not_above_0(lost_mass, sigmas):
    utm, desc = world(n=10)
    with pytest.raises(ValueError, match=r"lost_mass must be in \(0, 1\) and sigmas > 0"):
        make_filter(utm, desc).seed_around(utm[0], np.eye(2), lost_mass=lost_mass, sigmas=sigmas)
