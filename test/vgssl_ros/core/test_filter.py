"""Temporal place filter: tracking, kidnapping, stamps, leaving the map, one-place maps, cost bounds."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.core.filter import FilterConfig, ObservationModel, PlaceFilter, PlaceLayout

SPACING = 10.0


def world(n: int = 300, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Places on a line every SPACING m [n, 2] and unit descriptors [n, dim]."""
    rng = np.random.default_rng(seed)
    desc = rng.normal(size=(n, dim)).astype(np.float32)
    desc /= np.linalg.norm(desc, axis=1, keepdims=True)
    return np.stack([np.zeros(n), np.arange(n) * SPACING], axis=1) + [450000.0, 7250000.0], desc


def query(desc: np.ndarray, place: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """A noisy view [dim] of ``place``: weak enough that single frames are often wrong."""
    q = desc[place] + noise * rng.normal(size=desc.shape[1]).astype(np.float32)
    return q / np.linalg.norm(q)


def make_filter(utm: np.ndarray, desc: np.ndarray, **kw) -> PlaceFilter:
    cfg = FilterConfig(**kw)
    return PlaceFilter(
        PlaceLayout.build(utm, cfg.step_radius_m),
        ObservationModel(desc, cfg.temperature, cfg.query_mean_rate, cfg.reference_places),
        cfg,
        radius_m=25.0,
    )


def top_k(desc: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(desc @ q))[:k]


def drive(f: PlaceFilter, desc: np.ndarray, route: list[int], noise: float, seed: int = 1, t0: float = 0.0):
    """Feed a route of places; returns (states, single-frame top-1 per frame)."""
    rng = np.random.default_rng(seed)
    states, single = [], []
    for i, place in enumerate(route):
        q = query(desc, place, noise, rng)
        seeds = top_k(desc, q, f.config.seed_k)
        single.append(seeds[0])
        states.append(f.step(q, seeds, t0 + 0.1 * i))
    return states, np.array(single)


def correct(state, utm: np.ndarray, place: int) -> bool:
    return bool(np.linalg.norm(state.position - utm[place]) <= 25.0)


def test_filter_beats_single_frames_on_a_noisy_drive():
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    route = list(range(20, 220))  # one place per frame, unknown to the filter
    states, single = drive(f, desc, route, noise=0.3)
    single_ok = np.mean(np.linalg.norm(utm[single] - utm[route], axis=1) <= 25.0)
    filtered_ok = np.mean([correct(s, utm, p) for s, p in zip(states, route)])
    assert single_ok < 0.8 and filtered_ok >= 0.95 and filtered_ok > single_ok + 0.15
    last = states[-1]
    assert last.status == "tracking" and last.confidence > 0.5 and last.support <= f.config.max_support
    assert np.isfinite(last.covariance).all() and np.all(np.linalg.eigvalsh(last.covariance) > 0)
    assert last.candidates[0] == last.place


def test_a_slow_drive_with_several_frames_per_place_is_tracked():
    # 2.5 m per frame, places every 10 m: the robot stays near one place for 4 frames at a time.
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    route = [20 + int(round(0.25 * i)) for i in range(400)]
    states, single = drive(f, desc, route, noise=0.3)
    single_ok = np.mean(np.linalg.norm(utm[single] - utm[route], axis=1) <= 25.0)
    filtered_ok = np.mean([correct(s, utm, p) for s, p in zip(states, route)])
    assert single_ok < 0.8 and filtered_ok >= 0.95 and filtered_ok > single_ok + 0.15
    exact = np.mean([s.place == p for s, p in zip(states[50:], route[50:])])
    assert exact >= 0.8 and states[-1].status == "tracking"


def test_the_running_query_mean_follows_the_route_not_the_frames():
    # A slow robot sees each place for many frames; if each frame moved the mean the drive's descriptors are
    # centred on by the full rate, the mean would become the current place and erase its signal. At 4 frames
    # per place a frame moves it about a quarter as far as at one frame per place; before the speed is known, fully.
    utm, desc = world()
    rate, moved = FilterConfig().query_mean_rate, {}
    for per_place in (1, 4):
        f = make_filter(utm, desc, seed_k=20)
        route = [20 + i // per_place for i in range(200)]
        drive(f, desc, route[:-1], noise=0.1)
        before = f.observation.query_mean.copy()
        q = query(desc, route[-1], 0.1, np.random.default_rng(5))
        f.step(q, top_k(desc, q, 20), 0.1 * (len(route) - 1))
        moved[per_place] = np.linalg.norm(f.observation.query_mean - before) / np.linalg.norm(q - before)
    assert moved[1] == pytest.approx(rate, rel=0.1)
    assert rate / 6 < moved[4] < rate / 2.5
    fresh = make_filter(utm, desc)
    q = query(desc, 50, 0.1, np.random.default_rng(6))
    fresh.step(q, top_k(desc, q, 20), 0.0)
    assert np.linalg.norm(fresh.observation.query_mean - fresh.observation.map_mean) == pytest.approx(
        rate * np.linalg.norm(q - fresh.observation.map_mean), rel=1e-4
    )


def test_standing_still_at_an_ambiguous_view_neither_drifts_nor_switches_places():
    # Neighbouring places look alike (smoothed descriptors); the robot, 4 frames per place, stands for 20 s at
    # place 60 where its view looks nearly as much like place 200. Taking the same view 200 times as new
    # evidence, and moving on at the learned speed, used to carry the belief off; now it stays, then follows.
    utm, desc = world()
    kernel = np.ones(7) / 7
    desc = np.stack([np.convolve(desc[:, d], kernel, mode="same") for d in range(desc.shape[1])], axis=1)
    desc = (desc / np.linalg.norm(desc, axis=1, keepdims=True)).astype(np.float32)
    f = make_filter(utm, desc, seed_k=20)
    rng = np.random.default_rng(1)
    start, stop, after = [20 + i // 4 for i in range(160)], [60] * 200, [60 + i // 4 for i in range(160)]
    ok, motion = [], []
    for i, place in enumerate(start + stop + after):
        if len(start) <= i < len(start) + len(stop):  # the same view, sensor noise only
            q = 0.5 * desc[60] + 0.5 * desc[200] + 0.02 * rng.normal(size=desc.shape[1]).astype(np.float32)
        else:
            q = desc[place] + 0.3 * rng.normal(size=desc.shape[1]).astype(np.float32)
        q /= np.linalg.norm(q)
        state = f.step(q, top_k(desc, q, 20), 0.1 * i)
        ok.append(correct(state, utm, place))
        motion.append(state.motion)
        assert np.isfinite(state.position).all() and 0 <= state.confidence <= 1
    ok, motion = np.array(ok), np.array(motion)
    assert motion[170:360].max() < 0.1 and motion[-100:].mean() > 0.9  # standing is seen after VIEW_LAG frames
    assert ok[:160].mean() >= 0.9
    assert ok[160:360].mean() >= 0.95 and state.status == "tracking"
    assert ok[-100:].mean() >= 0.9


def test_kidnapping_is_recovered_within_20_frames_and_confidence_drops_meanwhile():
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    states, _ = drive(f, desc, list(range(10, 90)), noise=0.3)
    assert correct(states[-1], utm, 89)
    before = states[-1].confidence
    after, _ = drive(f, desc, list(range(200, 240)), noise=0.3, seed=2, t0=8.0)  # same stamps' pace, elsewhere
    recovered = next(
        i for i, s in enumerate(after) if all(correct(t, utm, 200 + i + j) for j, t in enumerate(after[i : i + 5]))
    )
    assert recovered <= 20
    assert min(s.confidence for s in after[: recovered + 1]) < 0.5 * before


def test_layout_bridges_gaps_in_the_map_but_not_past_its_ends():
    utm, _ = world(n=40)
    utm[20:, 1] += 100.0  # a 110 m gap (11 spacings) between places 19 and 20: beyond the 50 m step radius
    layout = PlaceLayout.build(utm)

    def reach(i):
        return set(layout.neighbours[layout.offsets[i] : layout.offsets[i + 1]].tolist())

    def bridges(i):
        return set(
            layout.neighbours[layout.offsets[i] : layout.offsets[i + 1]][
                layout.bridge[layout.offsets[i] : layout.offsets[i + 1]]
            ].tolist()
        )

    assert layout.step_radius_m == pytest.approx(50.0)
    assert bridges(19) == {20} and bridges(20) == {19}  # the nearest place across the gap, each way
    assert 20 not in reach(18) and bridges(18) == set()  # place 19 already covers that direction from 18
    assert bridges(0) == set() and bridges(39) == set() and reach(39) == {35, 36, 37, 38, 39}  # map ends stay ends
    assert not layout.bridge[layout.offsets[5] : layout.offsets[6]].any()


def test_a_drive_across_gaps_in_the_map_stays_tracked():
    # Stretches without places (tunnels, unmapped) that the drive skips in one frame, as in Nordland.
    utm, desc = world()
    for start in (80, 140, 200):
        utm[start:, 1] += 120.0
    f = make_filter(utm, desc, seed_k=20)
    route = list(range(20, 280))
    states, _ = drive(f, desc, route, noise=0.3)
    ok = np.array([correct(s, utm, p) for s, p in zip(states, route)])
    after_gaps = np.concatenate([ok[start - 20 : start - 20 + 10] for start in (80, 140, 200)])
    assert ok[30:].mean() >= 0.95 and after_gaps.all()


def test_driving_past_the_end_of_the_map_loses_the_map_instead_of_sticking_to_its_edge():
    utm, desc = world()
    f = make_filter(utm[:200], desc[:200], seed_k=20)
    rng = np.random.default_rng(3)
    states = []
    for i, place in enumerate(range(150, 260)):  # the road goes on past place 199, the last mapped one
        q = query(desc, place, 0.3, rng)
        states.append(f.step(q, top_k(desc[:200], q, 20), 0.1 * i))
    assert all(correct(s, utm, p) for s, p in zip(states[10:48], range(160, 198)))
    beyond = states[60:]  # 10+ frames past the end: the belief leaves the edge; chance matches stay weak
    assert not any(s.place >= 190 for s in beyond)
    assert np.mean([s.status == "lost" for s in beyond]) >= 0.8 and np.mean([s.confidence for s in beyond]) < 0.3


def test_frames_out_of_order_are_ignored_and_a_stamp_gap_resets():
    utm, desc = world()
    f = make_filter(utm, desc, max_gap_s=5.0)
    states, _ = drive(f, desc, list(range(30, 60)), noise=0.1)
    rng = np.random.default_rng(5)
    q = query(desc, 250, 0.1, rng)
    old = f.step(q, top_k(desc, q, f.config.seed_k), stamp_s=1.0)  # older than the last (2.9 s)
    assert old.status == "out_of_order" and old.place == states[-1].place and old.frames == states[-1].frames
    same = f.step(q, top_k(desc, q, f.config.seed_k), stamp_s=2.9)
    assert same.status == "out_of_order"
    jumped = f.step(q, top_k(desc, q, f.config.seed_k), stamp_s=100.0)
    assert jumped.status == "reset" and jumped.frames == 1


def test_one_far_future_stamp_does_not_freeze_the_filter():
    # Issue 16: one frame stamped sec = 2^31 - 1, then normal stamps from another stretch. A stamp going back by
    # more than max_gap_s resets (it used to be out of order forever, the same state returned for every frame).
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    before, _ = drive(f, desc, list(range(30, 60)), noise=0.1)
    q = query(desc, 250, 0.1, np.random.default_rng(7))
    future = f.step(q, top_k(desc, q, 20), stamp_s=2147483647.0)
    assert future.status == "reset" and future.frames == 1
    after, _ = drive(f, desc, list(range(100, 140)), noise=0.1, seed=8, t0=before[-1].frames * 0.1)
    assert after[0].status == "reset" and after[0].frames == 1
    assert not any(s.status == "out_of_order" for s in after)
    assert [s.frames for s in after] == list(range(1, 41))
    first = next(
        i for i, s in enumerate(after) if all(correct(t, utm, 100 + i + j) for j, t in enumerate(after[i : i + 5]))
    )
    assert first <= 5 and all(correct(s, utm, 100 + i) for i, s in enumerate(after) if i >= first)


def test_stamps_back_within_max_gap_are_out_of_order_and_beyond_it_reset():
    utm, desc = world()
    f = make_filter(utm, desc, max_gap_s=5.0)
    states, _ = drive(f, desc, list(range(30, 60)), noise=0.1, t0=100.0)  # last stamp 102.9
    q = query(desc, 61, 0.1, np.random.default_rng(5))
    seeds = top_k(desc, q, f.config.seed_k)
    for stamp in (102.9, 102.8, 98.0):  # equal, slightly older, back by just under max_gap_s
        late = f.step(q, seeds, stamp_s=stamp)
        assert late.status == "out_of_order" and late.frames == states[-1].frames and late.place == states[-1].place
    assert f.step(q, seeds, stamp_s=107.8).status == "tracking"  # forward by just under max_gap_s: no gap
    back = f.step(q, seeds, stamp_s=102.7)  # back by 5.1 s > max_gap_s: a new clock, start again
    assert back.status == "reset" and back.frames == 1
    assert f.step(q, seeds, stamp_s=102.8).status in ("tracking", "lost")


def test_leaving_the_map_says_lost_without_nan():
    utm, desc = world()
    f = make_filter(utm, desc)
    drive(f, desc, list(range(30, 80)), noise=0.1)
    rng = np.random.default_rng(9)
    states = []
    for i in range(60):  # views of nowhere in the map
        q = rng.normal(size=desc.shape[1]).astype(np.float32)
        q /= np.linalg.norm(q)
        states.append(f.step(q, top_k(desc, q, f.config.seed_k), 10.0 + 0.1 * i))
    later = states[20:]  # belief drains to "elsewhere" within a few frames, then mostly stays there
    assert np.mean([s.confidence for s in later]) < 0.5 and np.mean([s.status == "lost" for s in later]) >= 0.6
    for s in states:
        assert np.isfinite(s.position).all() and np.isfinite(s.covariance).all() and np.isfinite(s.confidence)


def test_a_map_of_one_place():
    utm, desc = world(n=1)
    f = make_filter(utm, desc)
    for i in range(5):
        s = f.step(desc[0], np.array([0, -1]), float(i))
    assert s.place == 0 and s.status == "tracking" and np.allclose(s.position, utm[0]) and 0 < s.confidence <= 1
    assert np.isfinite(s.covariance).all()


def test_bad_input_is_a_clear_error():
    utm, desc = world(n=10)
    f = make_filter(utm, desc)
    with pytest.raises(ValueError, match="no valid seed"):
        f.step(desc[0], np.array([-1, 99]))
    with pytest.raises(ValueError, match="finite"):
        f.step(np.full(desc.shape[1], np.nan, np.float32), np.array([0]))
    with pytest.raises(ValueError, match="temperature"):
        FilterConfig(temperature=0.0)


def test_cost_does_not_depend_on_map_size():
    """Work per frame is bounded by max_support and seed_k: the support never grows with the map."""
    for n in (200, 5000):
        utm, desc = world(n=n)
        f = make_filter(utm, desc, max_support=100, seed_k=10)
        states, _ = drive(f, desc, list(range(50, 90)), noise=0.3)
        assert max(s.support for s in states) <= 100


def test_a_frame_with_exactly_the_last_stamp_is_out_of_order():
    utm, desc = world()
    f = make_filter(utm, desc, max_gap_s=5.0)
    states, _ = drive(f, desc, list(range(30, 40)), noise=0.1, t0=1.0)
    q = query(desc, 41, 0.1, np.random.default_rng(5))
    seeds = top_k(desc, q, f.config.seed_k)
    last = f.last_stamp
    assert last is not None
    same = f.step(q, seeds, stamp_s=float(last))  # bit-identical to the last stamp (a duplicated message)
    assert same.status == "out_of_order" and same.frames == states[-1].frames
    assert f.step(q, seeds, stamp_s=float(np.nextafter(last, np.inf))).status != "out_of_order"


def test_a_fresh_filter_refuses_seeds_that_are_not_map_places():
    utm, desc = world(n=10)
    with pytest.raises(ValueError, match="no valid seed"):
        make_filter(utm, desc).step(desc[0], np.array([10, 11]))  # one past the last place is not a place


def test_a_non_finite_stamp_is_no_stamp():
    utm, desc = world(n=50)
    f = make_filter(utm, desc)
    for stamp in (np.nan, np.inf):
        state = f.step(desc[10], top_k(desc, desc[10], f.config.seed_k), stamp)
        assert state.status.value == "tracking" and f.last_stamp is None


def test_a_jump_of_exactly_max_gap_is_not_a_reset():
    utm, desc = world()
    f = make_filter(utm, desc, max_gap_s=4.0)
    drive(f, desc, list(range(30, 35)), noise=0.1, t0=0.0)
    last = f.last_stamp
    assert last is not None
    q = query(desc, 35, 0.1, np.random.default_rng(3))
    assert f.step(q, top_k(desc, q, f.config.seed_k), last + 4.0).status.value == "tracking"
    q = query(desc, 36, 0.1, np.random.default_rng(4))
    assert f.step(q, top_k(desc, q, f.config.seed_k), last + 8.5).status.value == "reset"


def test_the_state_lists_top_k_candidates_ten_by_default():
    utm, desc = world()
    f = make_filter(utm, desc)
    states, _ = drive(f, desc, list(range(30, 40)), noise=0.2)
    assert all(len(s.candidates) == 10 for s in states)
    q = query(desc, 40, 0.2, np.random.default_rng(2))
    assert len(f.step(q, top_k(desc, q, f.config.seed_k), 5.0, top_k=3).candidates) == 3


def test_the_learned_speed_is_the_confident_belief_speed_smoothed():
    """Driving one place (10 m) per frame teaches ~10 m/frame; a new estimate moves the old one by SPEED_RATE."""
    from vgssl_ros.core.filter.tuning import SPEED_RATE

    utm, desc = world()
    f = make_filter(utm, desc)
    states, _ = drive(f, desc, list(range(30, 70)), noise=0.1)
    assert states[-1].belief >= 0.9
    assert f.robot_speed == pytest.approx(SPACING, rel=0.05)
    f.robot_speed = 4.0
    f.motion = 1.0
    f._learn_speed(states[-1])
    assert 4.0 < f.robot_speed < 4.0 + SPEED_RATE * (SPACING - 4.0) * 1.1


def test_a_stop_on_a_dense_drive_keeps_the_confidence():
    """4 frames per place, then 20 s standing at place 60 (sensor noise only): the views carry no news, and the
    tempered masses stand still with the belief, so the reported confidence holds through the stop. (On a sparse
    drive, one place per frame, the view change says nothing of motion and a stop does lose the confidence.)"""
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    rng = np.random.default_rng(1)
    start, stop = [20 + i // 4 for i in range(160)], [60] * 200
    conf = []
    for i, place in enumerate(start + stop):
        noise = 0.02 if i >= len(start) else 0.3
        q = desc[place] + noise * rng.normal(size=desc.shape[1]).astype(np.float32)
        q /= np.linalg.norm(q)
        state = f.step(q, top_k(desc, q, 20), 0.1 * i)
        conf.append(state.confidence)
    moving, standing = np.mean(conf[100:160]), np.mean(conf[170:])
    assert moving > 0.6 and standing > 0.85 * moving and correct(state, utm, 60)


def test_the_learned_speed_is_a_mass_weighted_mean_of_the_hypotheses_near_the_answer():
    from dataclasses import replace

    from vgssl_ros.core.filter.state import Belief, Hypotheses

    utm, desc = world(n=50)
    f = make_filter(utm, desc)
    velocity = np.array([[0.0, 10.0], [0.0, 10.0], [0.0, -30.0]])
    hyp = Hypotheses(np.array([20, 21, 45]), np.array([0.3, 0.3, 0.1]), velocity, np.zeros(3), np.full(3, 0.2))
    f.belief = Belief(hyp, 0.3, 0.4)
    state = f.step(desc[20], np.array([20, 21]), 0.0)
    f.belief, f.robot_speed = Belief(hyp, 0.3, 0.4), None  # the place 250 m away does not count
    f._learn_speed(replace(state, belief=1.0, position=utm[20]))
    assert f.robot_speed == pytest.approx(10.0)


def test_fresh_hypotheses_move_at_the_learned_speed():
    """Seeded (not moving yet) at place 100 after learning 10 m/frame, a frame that looks equally like places 101
    and 103 puts more belief on 101, one frame's travel away, than on 103."""
    utm, desc = world()
    f = make_filter(utm, desc)
    drive(f, desc, list(range(30, 60)), noise=0.1)
    assert f.robot_speed == pytest.approx(SPACING, rel=0.1)
    f.seed_around(utm[100], np.zeros((2, 2)), sigmas=0.5)
    q = desc[101] + desc[103]
    q /= np.linalg.norm(q)
    f.step(q, np.array([101, 103]), 10.0)
    mass = dict(zip(f.belief.hyp.place.tolist(), f.belief.hyp.mass))
    assert mass.get(101, 0.0) > 2 * mass.get(103, 0.0)


def test_construction_defaults_and_refusals():
    from vgssl_ros.core.filter.tuning import AUTO_SPEED_STD_SPACINGS

    utm, desc = world(n=20)
    cfg = FilterConfig()
    layout = PlaceLayout.build(utm, cfg.step_radius_m)
    observation = ObservationModel(desc, cfg.temperature, cfg.query_mean_rate, cfg.reference_places)
    f = PlaceFilter(layout, observation, cfg)
    assert (f.radius_m, f.min_std_m) == (25.0, 5.0)
    assert f.speed_std_m == pytest.approx(AUTO_SPEED_STD_SPACINGS * SPACING)
    assert PlaceFilter(layout, observation, FilterConfig(speed_std_m=0.5)).speed_std_m == 0.5
    small = PlaceFilter(layout, observation, cfg, radius_m=0.5, min_std_m=0.5)
    assert (small.radius_m, small.min_std_m) == (0.5, 0.5)
    for radius_m, min_std_m in ((0.0, 5.0), (25.0, 0.0), (-1.0, 5.0)):
        with pytest.raises(ValueError, match="radius_m and min_std_m must be > 0"):
            PlaceFilter(layout, observation, cfg, radius_m=radius_m, min_std_m=min_std_m)
    fewer = ObservationModel(desc[:10], cfg.temperature, cfg.query_mean_rate, cfg.reference_places)
    with pytest.raises(ValueError, match="layout has 20 places, the observation model 10"):
        PlaceFilter(layout, fewer, cfg)


def test_the_query_mean_advances_by_the_spacings_moved_between_a_floor_and_one():
    from vgssl_ros.core.filter.tuning import MEAN_RATE_FLOOR

    utm, desc = world(n=20)
    f = make_filter(utm, desc)
    assert f._spacings_per_frame() == 1.0  # speed unknown
    for speed, expected in ((25.0, 1.0), (5.0, 0.5), (0.1, MEAN_RATE_FLOOR)):
        f.robot_speed = speed
        assert f._spacings_per_frame() == pytest.approx(expected)
