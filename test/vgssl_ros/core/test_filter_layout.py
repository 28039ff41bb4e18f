"""The filter's place layout (layout.py) by hand: neighbours, displacements, spacing, sectors, bridges."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.core.filter import PlaceLayout
from vgssl_ros.core.filter.layout import _sector, gap_bridges, median_spacing
from vgssl_ros.core.filter.tuning import BRIDGE_SECTORS
from vgssl_ros.geo.grid import pairs_within

ORIGIN = np.array([450000.0, 7250000.0])


def reach(layout: PlaceLayout, i: int) -> dict[int, tuple[tuple[float, float], bool]]:
    lo, hi = layout.offsets[i], layout.offsets[i + 1]
    return {
        int(n): (tuple(np.round(d, 6).tolist()), bool(b))
        for n, d, b in zip(layout.neighbours[lo:hi], layout.displacement[lo:hi], layout.bridge[lo:hi])
    }


def test_neighbours_within_an_explicit_step_radius_with_displacements():
    utm = ORIGIN + np.array([[0.0, 0.0], [0.0, 10.0], [0.0, 20.0], [0.0, 35.0]])
    layout = PlaceLayout.build(utm, step_radius_m=15.0)
    assert layout.step_radius_m == 15.0 and layout.spacing_m == pytest.approx(10.0)
    assert layout.offsets.tolist()[0] == 0 and layout.offsets[-1] == len(layout.neighbours)
    assert reach(layout, 1) == {0: ((0.0, -10.0), False), 1: ((0.0, 0.0), False), 2: ((0.0, 10.0), False)}
    assert reach(layout, 2)[3] == ((0.0, 15.0), True)  # exactly the radius away: beyond reach, bridged (an end)
    np.testing.assert_array_equal(layout.utm, utm)


def test_the_auto_step_radius_is_five_median_spacings():
    utm = ORIGIN + np.stack([np.zeros(12), np.arange(12) * 4.0], axis=1)
    layout = PlaceLayout.build(utm)
    assert layout.spacing_m == pytest.approx(4.0) and layout.step_radius_m == pytest.approx(20.0)
    assert set(reach(layout, 0)) == {0, 1, 2, 3, 4}  # 20 m is not within 20 m


def test_median_spacing_ignores_duplicates_and_falls_back_to_one_metre():
    line = ORIGIN + np.stack([np.zeros(5), [0.0, 10.0, 20.0, 30.0, 31.0]], axis=1)
    assert median_spacing(line) == pytest.approx(10.0)  # nearest: 10, 10, 10, 1, 1 -> 10
    even = ORIGIN + np.stack([np.zeros(5), np.arange(5) * 10.0], axis=1)
    dup = np.concatenate([even, even[:1]])  # one position twice: not a spacing of 0
    assert median_spacing(dup) == pytest.approx(10.0)
    assert median_spacing(ORIGIN[None]) == 1.0
    assert median_spacing(np.stack([ORIGIN, ORIGIN])) == 1.0
    assert median_spacing(line, sample=5) == median_spacing(line)


def test_build_refuses_no_places_and_non_finite_positions():
    for utm in (np.zeros((0, 2)), np.array([[np.nan, 0.0], [0.0, 0.0]])):
        with pytest.raises(ValueError, match="at least one place, with finite positions"):
            PlaceLayout.build(utm)
    one = PlaceLayout.build(ORIGIN[None])
    assert reach(one, 0) == {0: ((0.0, 0.0), False)} and one.spacing_m == 1.0


def test_sectors_are_eighths_counter_clockwise_from_east():
    angles = np.deg2rad(np.arange(8) * 45.0 + 10.0)
    disp = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert _sector(disp).tolist() == list(range(BRIDGE_SECTORS))
    assert _sector(np.array([[1.0, -1e-9]])).tolist() == [7]  # just below east: the last sector


def test_an_isolated_place_is_bridged_to_the_nearest_place_in_every_direction_within_reach():
    # place 0 alone; a stretch north of it 60-80 m away, one place east 150 m away, one far west
    utm = ORIGIN + np.array([[0.0, 0.0], [0.0, 60.0], [0.0, 70.0], [0.0, 80.0], [150.0, 0.0], [-3000.0, 0.0]])
    layout = PlaceLayout.build(utm, step_radius_m=15.0)  # median spacing 35 m: bridges up to 700 m
    assert layout.spacing_m == pytest.approx(35.0)
    bridges = {n for n, (_, b) in reach(layout, 0).items() if b}
    assert bridges == {1, 4}  # north: the nearest of the stretch; east; not west (3 km > 700 m)
    owner, other = gap_bridges(utm, np.arange(6), np.arange(6), 15.0, 15.0)  # no room beyond the radius
    assert owner.size == 0 and other.size == 0


def test_two_places_give_their_distance_and_sub_metre_spacings_are_kept():
    assert median_spacing(ORIGIN + np.array([[0.0, 0.0], [0.0, 7.0]])) == pytest.approx(7.0)
    close = ORIGIN + np.stack([np.zeros(6), np.arange(6) * 0.4], axis=1)  # a dense survey: 0.4 m apart
    assert median_spacing(close) == pytest.approx(0.4, rel=1e-4)


def test_a_sub_metre_step_radius_is_taken_as_given():
    utm = ORIGIN + np.stack([np.zeros(6), np.arange(6) * 0.4], axis=1)
    layout = PlaceLayout.build(utm, step_radius_m=0.5)
    assert layout.step_radius_m == 0.5 and set(reach(layout, 2)) == {1, 2, 3}


def test_the_filter_for_a_map_takes_the_step_radius_and_the_estimators_radius_and_resolution():
    from test.vgssl_ros.core.test_localizer_settings import fake_map
    from vgssl_ros.core.estimate import EstimatorConfig
    from vgssl_ros.core.filter import FilterConfig, filter_for_map

    f = filter_for_map(fake_map(), FilterConfig(step_radius_m=35.0), EstimatorConfig(radius_m=30.0, min_std_m=7.0))
    assert f.layout.step_radius_m == 35.0 and (f.radius_m, f.min_std_m) == (30.0, 7.0)


def bridges(points: list[tuple[float, float]], radius_m: float, max_bridge_m: float) -> list[tuple[int, int]]:
    """gap_bridges' (owner, other) pairs, in its order, for places ``points`` m from ORIGIN reaching ``radius_m``."""
    utm = ORIGIN + np.asarray(points, dtype=np.float64).reshape(-1, 2)
    owner, other, _ = pairs_within(utm, utm, radius_m)
    b_owner, b_other = gap_bridges(utm, owner, other, radius_m, max_bridge_m)
    return list(zip(b_owner.tolist(), b_other.tolist()))


def test_two_places_out_of_each_others_reach_are_bridged_both_ways():
    """Two places 50 m apart with a 15 m reach: each is an isolated place, bridged to the other."""
    assert bridges([(0.0, 0.0), (50.0, 0.0)], 15.0, 100.0) == [(0, 1), (1, 0)]
    layout = PlaceLayout.build(ORIGIN + np.array([[0.0, 0.0], [50.0, 0.0]]), step_radius_m=15.0)
    assert reach(layout, 0) == {0: ((0.0, 0.0), False), 1: ((50.0, 0.0), True)}
    assert reach(layout, 1) == {0: ((-50.0, 0.0), True), 1: ((0.0, 0.0), False)}


def test_no_bridges_without_room_beyond_the_radius_even_with_none_at_all():
    """A bridge spans at least the radius and less than ``max_bridge_m``: none when that is 0 or below the radius."""
    line = [(0.0, 0.0), (10.0, 0.0), (40.0, 0.0), (200.0, 0.0)]
    for max_bridge_m in (0.0, 10.0, 15.0):
        assert bridges(line, 15.0, max_bridge_m) == []
    # with room: 1 (reaching west only) and 2 (alone) bridge to each other; 0 looks west, 3 is 160 m away
    assert bridges(line, 15.0, 100.0) == [(1, 2), (2, 1)]


def test_a_straight_line_is_bridged_from_its_ends_only_outward_to_the_nearest_place_per_sector():
    """A dead end (its only neighbour behind it) is bridged in the three sectors opposite; the middle never."""
    line = [(0.0, 0.0), (10.0, 0.0), (20.0, 0.0)]  # 0 reaches east only (sector 0), 2 west only (4), 1 both
    others = [
        (-30.0, 15.0),  # 3: sector 3 from 0 (153 deg), 33.5 m
        (-20.0, -35.0),  # 4: sector 5 from 0 (240 deg)
        (5.0, -30.0),  # 5: sector 6 from 0 (280 deg): not opposite east; sector 5 from 1 and from 2
        (50.0, 20.0),  # 6: sector 0 from 2 (34 deg) and from 1 and 0
        (-60.0, -5.0),  # 7: sector 4 from 0 (185 deg)
        (-70.0, 40.0),  # 8: sector 3 from 0 too, but farther than 3
    ]
    got = bridges(line + others, 15.0, 100.0)
    # 0 wants sectors 3, 4, 5 (135-270 deg): 3, 7, 4 in sector order; 2 wants 7, 0, 1 (315-90 deg): 6
    assert [pair for pair in got if pair[0] < 3] == [(0, 3), (0, 7), (0, 4), (2, 6)]
    owners = [owner for owner, _ in got]
    assert owners == sorted(owners)  # by place, then sector (the isolated places 3-8 have theirs too)


def test_a_corner_is_bridged_on_its_open_side_and_not_into_its_inside():
    """An L-shaped route: the corner reaches west and north, so it is bridged south to east (sectors 5, 6, 7, 0, 1)."""
    corner = [(0.0, 0.0), (10.0, 0.0), (20.0, 0.0), (20.0, 10.0), (20.0, 20.0)]  # 12 m reach: no diagonals
    others = [(60.0, 0.0), (20.0, -40.0), (5.0, 20.0)]  # 5 east of the corner, 6 south, 7 inside the L
    got = bridges(corner + others, 12.0, 100.0)
    # 0 (dead end, wants 3-5) and 4 (wants 1-3) have nothing there; 7 is in sector 2 from the corner
    assert [pair for pair in got if pair[0] < 5] == [(2, 5), (2, 6)]


def test_a_t_junction_is_bridged_across_the_road_opposite_its_stem():
    """A road west-east with a stem north from place 1: the junction reaches sectors 0, 2 and 4 but none of 5-7
    (opposite the stem), so it is bridged south; the road's ends and the stem's end are bridged outward."""
    tee = [(0.0, 0.0), (10.0, 0.0), (20.0, 0.0), (10.0, 10.0), (10.0, 20.0)]
    others = [(10.0, -40.0), (-40.0, 0.0), (10.0, 50.0)]  # 5 south of the junction, 6 west of 0, 7 north of 4
    got = bridges(tee + others, 12.0, 100.0)
    # 2 (wants 7, 0, 1) has 5 in sector 5 and 7 in sector 2 (101 deg): not bridged
    assert [pair for pair in got if pair[0] < 5] == [(0, 6), (1, 5), (4, 7)]


def test_a_closed_loop_needs_no_bridges_and_a_place_alone_inside_it_is_bridged_once_per_sector():
    """16 places on a loop (each reaches its two neighbours, 157.5 deg apart: never an end) around one place alone."""
    k = np.arange(16)
    angle, radius = np.deg2rad(22.5 * k + 11.25), 30.0 + 0.1 * k  # two per sector, the even one nearer
    loop = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    assert bridges([tuple(p) for p in loop], 15.0, 40.0) == []
    inside = bridges([*map(tuple, loop), (0.0, 0.0)], 15.0, 40.0)
    assert inside == [(16, i) for i in range(0, 16, 2)]  # the one end: its nearest in sectors 0, 1, ..., 7
