"""The procedural world: determinism, aliasing, the camera, and how strongly conditions change pixels."""

from __future__ import annotations

import numpy as np
import pytest

from test.vgssl_ros.sim.conftest import TINY_WORLD
from vgssl_ros.sim import CONDITIONS, Camera, Renderer, WorldSpec, build_world, get_condition
from vgssl_ros.sim.trajectory import camera_poses

CAMERA = Camera(width=96, height=72)


def _view(world, condition: str, s: float = 150.0, rng=None) -> np.ndarray:
    xy, heading = world.pose_at(np.array([s]))
    return Renderer(world, get_condition(condition), CAMERA).render(xy[0], heading[0], rng)


def test_same_seed_same_world_and_pixels():
    a, b = build_world(TINY_WORLD), build_world(TINY_WORLD)
    np.testing.assert_array_equal(a.p0, b.p0)
    np.testing.assert_array_equal(a.style, b.style)
    np.testing.assert_array_equal(
        _view(a, "rain", rng=np.random.default_rng(1)), _view(b, "rain", rng=np.random.default_rng(1))
    )
    other = build_world(WorldSpec(seed=TINY_WORLD.seed + 1, route_m=TINY_WORLD.route_m))
    assert not np.array_equal(_view(a, "day"), _view(other, "day"))


def test_route_is_long_enough_turns_and_is_lined_with_buildings():
    world = build_world(WorldSpec(seed=5, route_m=3000.0))
    assert world.length_m >= 3000.0
    seg = np.diff(world.route, axis=0)
    assert len(np.unique(np.round(np.arctan2(seg[:, 1], seg[:, 0]), 3))) >= 3  # it turns both ways
    assert len(world.p0) >= world.length_m / 20  # both sides of the street, 7..18 m buildings
    assert str(world.zone) == "32U"


def test_distant_places_share_facade_styles():
    world = build_world(TINY_WORLD)
    mid = (world.p0 + world.p1) / 2
    far_pairs = 0
    for style in np.unique(world.style):
        idx = np.nonzero(world.style == style)[0]
        d = np.linalg.norm(mid[idx, None] - mid[None, idx], axis=2)
        far_pairs += int((d > 100).sum())
    assert far_pairs > 0
    assert len(np.unique(world.style)) <= TINY_WORLD.styles < len(world.p0) / 4


def test_conditions_change_pixels_strongly():
    world = build_world(TINY_WORLD)
    day = _view(world, "day").astype(np.float32)
    np.testing.assert_array_equal(day, _view(world, "day"))
    for name in CONDITIONS:
        if name in ("day", "viewpoint"):
            continue
        other = _view(world, name, rng=np.random.default_rng(0)).astype(np.float32)
        assert np.abs(other - day).mean() > 15.0, name


def test_viewpoint_condition_moves_the_camera_more_than_day():
    world = build_world(TINY_WORLD)
    s = np.linspace(20, 300, 200)
    centre, _ = world.pose_at(s)
    spread = {}
    for name in ("day", "viewpoint"):
        xy, heading = camera_poses(world, s, get_condition(name), np.random.default_rng(0))
        spread[name] = float(np.linalg.norm(xy - centre, axis=1).std())
    assert spread["viewpoint"] > 3 * spread["day"]


def test_camera_projects_straight_ahead_to_the_centre():
    cam = Camera(width=320, height=240)
    point = np.array([10.0, 0.0, cam.mount_m])  # 10 m east of the camera, at its height
    px = cam.project(cam.to_camera(point, np.zeros(2), 0.0))
    np.testing.assert_allclose(px, [160.0, 120.0])
    left = cam.project(cam.to_camera(np.array([10.0, 1.0, cam.mount_m]), np.zeros(2), 0.0))
    assert left[0] < 160.0  # north is on the left when looking east


def test_bad_inputs_raise_with_the_valid_names():
    with pytest.raises(ValueError, match="valid conditions: day"):
        get_condition("sunny")
    with pytest.raises(ValueError, match="at least 200 m"):
        build_world(WorldSpec(route_m=50.0))
    with pytest.raises(ValueError, match="unknown world spec keys"):
        WorldSpec.from_dict({"seed": 1, "colour": 2})
