"""The filter's motion model (transitions.py) in isolation: step weights by hand, mass accounting, velocity."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.core.filter import FilterConfig, PlaceLayout
from vgssl_ros.core.filter.state import Belief, Hypotheses
from vgssl_ros.core.filter.transitions import (
    Reach,
    follow_weights,
    followed_velocity,
    merge,
    predict,
    step_log_weights,
)
from vgssl_ros.core.filter.tuning import MIN_SPEED_RATIO, SEED_SPEED_SPREAD

SPACING, SPEED_CHANGE, SPEED_STD = 10.0, 0.1, 5.0


def reach(velocity: list[list[float]], steps: list[tuple[int, tuple[float, float], bool]], dwell=None) -> Reach:
    """A Reach by hand: ``steps`` are (hypothesis row, displacement, bridge)."""
    rows = np.array([r for r, _, _ in steps])
    disp = np.array([d for _, d, _ in steps], dtype=np.float64)
    vel = np.asarray(velocity, dtype=np.float64)
    dw = np.zeros(len(vel)) if dwell is None else np.asarray(dwell, dtype=np.float64)
    return Reach(
        rows=rows,
        place=np.arange(len(steps)),
        disp=disp,
        bridge=np.array([b for _, _, b in steps]),
        here=(disp**2).sum(axis=1) == 0,
        velocity=vel[rows],
        dwell=dw[rows],
        count=np.bincount(rows, minlength=len(vel))[rows],
    )


def lognormal(ratio: float, spread: float) -> float:
    return -(np.log(ratio) ** 2) / (2 * spread**2)


def test_step_log_weights_by_hand_for_a_moving_hypothesis():
    r = reach(
        [[0.0, 10.0]],
        [
            (0, (0.0, 10.0), False),  # one frame ahead: the expected step
            (0, (0.0, 20.0), False),  # twice as far
            (0, (3.0, 10.0), False),  # 3 m sideways
            (0, (0.0, -10.0), False),  # back
            (0, (0.0, 0.0), False),  # here
            (0, (0.0, 50.0), False),  # 5x as far
            (0, (0.0, 50.0), True),  # across a gap: as long as the gap, only the direction counts
            (0, (10.0, 50.0), True),  # across a gap, off to the side: the offset scaled to one step
            (0, (10.0, -2.0), False),  # beside it, 2 m back: still ahead (round a corner)
        ],
    )
    logw, ahead = step_log_weights(r, SPACING, SPEED_CHANGE, SPEED_STD, None)
    expected = [
        0.0,
        lognormal(2.0, SPEED_CHANGE),
        -9.0 / (2 * SPEED_STD**2),
        lognormal(MIN_SPEED_RATIO, SPEED_CHANGE),
        lognormal(MIN_SPEED_RATIO, SPEED_CHANGE),
        lognormal(5.0, SPEED_CHANGE),
        0.0,
        -(100.0 * 10.0**2 / 2600.0) / (2 * SPEED_STD**2),
        lognormal(MIN_SPEED_RATIO, SPEED_CHANGE) - 100.0 / (2 * SPEED_STD**2),
    ]
    np.testing.assert_allclose(logw, expected, rtol=1e-12, atol=1e-12)
    assert ahead.tolist() == [True, True, True, False, False, True, True, True, True]


def test_step_log_weights_of_a_fast_hypothesis_use_its_speed():
    r = reach([[0.0, 25.0]], [(0, (0.0, 20.0), False), (0, (0.0, 25.0), False), (0, (6.0, 0.0), False)])
    logw, ahead = step_log_weights(r, SPACING, SPEED_CHANGE, SPEED_STD, 7.0)
    expected = [lognormal(0.8, SPEED_CHANGE), 0.0, lognormal(MIN_SPEED_RATIO, SPEED_CHANGE) - 36.0 / 50.0]
    np.testing.assert_allclose(logw, expected, rtol=1e-12)
    assert ahead.tolist() == [True, True, True]  # sideways (as round a corner) is ahead; 25 % of a step back is not


def test_step_log_weights_of_a_hypothesis_not_moving_yet():
    """Alike until the robot's speed is known; then by distance against that speed, any direction."""
    steps = [(0, (0.0, 20.0), False), (0, (-10.0, 0.0), False), (0, (0.0, 0.0), False), (0, (0.0, 60.0), True)]
    logw, ahead = step_log_weights(reach([[0.0, 0.0]], steps), SPACING, SPEED_CHANGE, SPEED_STD, None)
    assert logw.tolist() == [0.0, 0.0, 0.0, 0.0] and not ahead.any()
    logw, _ = step_log_weights(reach([[0.0, 0.0]], steps), SPACING, SPEED_CHANGE, SPEED_STD, 10.0)
    expected = [
        lognormal(2.0, SEED_SPEED_SPREAD),
        0.0,
        lognormal(MIN_SPEED_RATIO * SPACING / SPACING, SEED_SPEED_SPREAD),
        0.0,
    ]
    np.testing.assert_allclose(logw, expected, rtol=1e-12)


def test_follow_weights_stay_finite_when_every_step_is_unlikely():
    r = reach([[0.0, 10.0]], [(0, (40.0, 0.0), False), (0, (-40.0, 0.0), False)])  # both far off to the side
    logw, _ = step_log_weights(r, SPACING, SPEED_CHANGE, SPEED_STD, None)
    assert logw.max() < -400  # exp() of these underflows to 0 without the per-row maximum taken out
    weights, exits = follow_weights(np.array([10.0]), r, line(), FilterConfig(), SPEED_STD, None)
    np.testing.assert_allclose(weights, [0.5, 0.5])
    assert not exits.any()


def test_followed_velocity_gains_towards_the_step_or_takes_it_outright():
    r = reach(
        [[6.0, -6.0], [0.0, 0.0], [5.0, 0.0]],
        [(0, (10.0, -10.0), False), (1, (0.0, 10.0), False), (2, (10.0, 0.0), False), (2, (0.0, 0.0), False)],
        dwell=[0.0, 0.0, 1.0],
    )
    v = followed_velocity(r)
    np.testing.assert_allclose(v[0], [6.2, -6.2])  # moving (diagonally): VELOCITY_GAIN 0.05 towards the step
    np.testing.assert_allclose(v[1], [0.0, 10.0])  # not moving yet: the first step is the velocity
    np.testing.assert_allclose(v[2], [5.0, 0.0])  # dwelt one frame, then moved 10 m: 5 m/frame, outright
    np.testing.assert_allclose(v[3], [5.0, 0.0])  # stays at its place: the velocity is kept


def line(n: int = 30) -> PlaceLayout:
    utm = np.stack([np.zeros(n), np.arange(n) * SPACING], axis=1) + [450000.0, 7250000.0]
    return PlaceLayout.build(utm, 0.0)


def belief(place: list[int], mass: list[float], velocity: list[list[float]], tempered: list[float], lost=0.1):
    hyp = Hypotheses(
        np.array(place),
        np.array(mass),
        np.array(velocity, dtype=np.float64),
        np.zeros(len(place)),
        np.array(tempered),
    )
    return Belief(hyp, lost, lost)


def test_predict_conserves_mass_and_sends_kidnap_and_map_exits_to_lost():
    cfg = FilterConfig(kidnap_prob=0.02, jump_prob=0.05)
    layout = line()
    b = belief([10, 29], [0.6, 0.3], [[0.0, 5.0], [0.0, 5.0]], [0.5, 0.4])  # slow: mid-map, and at the end moving on
    out = predict(b, layout, cfg, SPEED_STD, None, motion=0.8, tempered_kidnap=0.005)
    going_end = (1 - 0.02) * 0.8 * 0.3  # the end hypothesis' moving share
    exit_mass = going_end * (1 - 0.05) * 0.5  # its follow share (p_stay 0.5) finds no place ahead: to lost
    assert out.lost == pytest.approx(0.1 + 0.02 * 0.8 * 0.9 + exit_mass, rel=1e-12)
    going_end_t = (1 - 0.005) * 0.8 * 0.4
    assert out.lost_tempered == pytest.approx(0.1 + 0.005 * 0.8 * 0.9 + going_end_t * 0.95 * 0.5, rel=1e-12)
    assert out.hyp.mass.sum() + out.lost == pytest.approx(1.0, abs=1e-12)
    assert out.hyp.tempered.sum() + out.lost_tempered == pytest.approx(1.0, abs=1e-12)
    same = predict(b, layout, cfg, SPEED_STD, None, motion=0.8)  # no tempered kidnap given: the same as the masses
    assert same.lost_tempered == pytest.approx(0.1 + 0.02 * 0.8 * 0.9 + going_end_t / (1 - 0.005) * 0.98 * 0.95 * 0.5)


def test_a_slow_hypothesis_stays_with_one_more_frame_of_dwell():
    """5 m/frame on a 10 m spacing: half of the moving mass stays (dwell + 1), half follows to the next place."""
    cfg = FilterConfig(kidnap_prob=1e-9, jump_prob=0.0)
    hyp = Hypotheses(np.array([10]), np.array([1.0]), np.array([[0.0, 5.0]]), np.array([2.0]), np.array([1.0]))
    b = Belief(hyp, 0.0, 0.0)
    out = predict(b, line(), cfg, SPEED_STD, None, motion=1.0)
    here = out.hyp.place == 10
    assert out.hyp.mass[here].sum() == pytest.approx(0.5, rel=1e-6)
    assert (out.hyp.mass[here] * out.hyp.dwell[here]).sum() / out.hyp.mass[here].sum() == pytest.approx(3.0)
    assert out.hyp.mass[~here].sum() == pytest.approx(0.5, rel=1e-6)


def test_arriving_at_the_same_place_is_one_more_frame_of_dwell_and_elsewhere_none():
    r = reach([[0.0, 5.0]], [(0, (0.0, 0.0), False), (0, (0.0, 10.0), False)], dwell=[2.0])
    assert r.arrival_dwell().tolist() == [3.0, 0.0]


def test_merge_joins_one_place_and_velocity_cell_and_keeps_the_rest_apart():
    layout = line()
    children = Hypotheses(
        place=np.array([5, 5, 5, 5, 6, 4, 5]),
        mass=np.array([0.1, 0.2, 0.05, 0.05, 0.3, 0.1, 0.2]),
        velocity=np.array([[0.0, 10.0], [0.0, 10.2], [10.0, 0.0], [-10.0, 0.0], [0.0, 10.0], [1e6, 1e6], [-1e6, -1e6]]),
        dwell=np.array([0.0, 3.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
        tempered=np.array([0.2, 0.1, 0.0, 0.1, 0.3, 0.2, 0.1]),
    )
    out = merge(children, layout)
    assert len(out) == 6 and out.mass.sum() == pytest.approx(1.0) and out.tempered.sum() == pytest.approx(1.0)
    rows = {(int(p), tuple(np.sign(np.round(v, 6)))): i for i, (p, v) in enumerate(zip(out.place, out.velocity))}
    both = rows[(5, (0.0, 1.0))]  # the two forward ones at place 5 merged
    assert out.mass[both] == pytest.approx(0.3) and out.tempered[both] == pytest.approx(0.3)
    np.testing.assert_allclose(out.velocity[both], [0.0, (0.1 * 10.0 + 0.2 * 10.2) / 0.3])
    assert out.dwell[both] == pytest.approx(0.2 * 3.0 / 0.3)
    assert out.mass[rows[(5, (1.0, 0.0))]] == pytest.approx(0.05)  # east and west at one place stay apart
    assert out.mass[rows[(5, (-1.0, 0.0))]] == pytest.approx(0.05)
    assert out.mass[rows[(6, (0.0, 1.0))]] == pytest.approx(0.3)
    assert out.mass[rows[(4, (1.0, 1.0))]] == pytest.approx(0.1)  # off-scale velocities stay at their own places
    assert out.mass[rows[(5, (-1.0, -1.0))]] == pytest.approx(0.2)


def test_merge_keeps_velocities_one_cell_apart_at_the_edge_of_the_step_radius():
    """Velocities reach the step radius (50 m here); cells are 2.5 m: -50 and -47.5 m/frame are two cells."""
    velocity = np.array([[0.0, -50.0], [0.0, -47.5], [0.0, 50.0], [0.0, 47.5]])
    children = Hypotheses(np.full(4, 5), np.full(4, 0.25), velocity, np.zeros(4), np.full(4, 0.25))
    assert len(merge(children, line())) == 4
