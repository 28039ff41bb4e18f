"""The filter's place layout (layout.py) by hand: neighbours, displacements, spacing, sectors, bridges."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.core.filter import PlaceLayout
from vgssl_ros.core.filter.layout import _sector, gap_bridges, median_spacing
from vgssl_ros.core.filter.tuning import BRIDGE_SECTORS

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
