"""The reported confidence: counts each frame's news, so look-alike frames cannot make the filter sure of a wrong
place, while independent frames of a drive it tracks still make it sure."""

from __future__ import annotations

import numpy as np

from test.vgssl_ros.core.test_filter import correct, drive, make_filter, top_k, world


def test_a_run_of_look_alike_frames_matching_a_wrong_place_never_makes_it_sure():
    # A dense drive (6 frames per place) in which every view also looks like one far place (a "hub", as at night):
    # the belief may sit on the hub, but the frames barely differ from each other, so they are little news.
    utm, desc = world()
    hub = 250
    f = make_filter(utm, desc, seed_k=20)
    rng = np.random.default_rng(3)
    wrong_conf, belief_on_hub = [], 0
    for i, place in enumerate(20 + j // 6 for j in range(300)):
        q = 0.35 * desc[place] + 0.6 * desc[hub] + 0.15 * rng.normal(size=desc.shape[1]).astype(np.float32)
        q /= np.linalg.norm(q)
        state = f.step(q, top_k(desc, q, 20), 0.1 * i)
        if not correct(state, utm, place):
            wrong_conf.append(state.confidence)
            belief_on_hub += state.belief >= 0.9
    assert belief_on_hub >= 20  # the belief itself is sure of the wrong place (the case this guards)
    assert max(wrong_conf) < 0.9


def test_independent_frames_of_a_tracked_drive_still_make_it_sure():
    utm, desc = world()
    f = make_filter(utm, desc, seed_k=20)
    route = list(range(20, 220))  # one place per frame: every frame is news
    states, _ = drive(f, desc, route, noise=0.3)
    right = np.array([correct(s, utm, p) for s, p in zip(states, route)])
    sure = np.array([s.confidence >= 0.9 for s in states])
    assert right[30:].mean() >= 0.95 and sure[30:].mean() >= 0.8
    assert (sure & ~right).sum() == 0
