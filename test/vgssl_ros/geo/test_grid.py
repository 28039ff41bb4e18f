"""Pairs within a radius through the grid: the same pairs as brute force, in order, chunked or not."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.geo import grid
from vgssl_ros.geo.grid import pairs_within


def brute_force(q: np.ndarray, d: np.ndarray, radius: float) -> list[tuple[int, int]]:
    dist = np.linalg.norm(q[:, None, :] - d[None, :, :], axis=2)
    return sorted(zip(*np.nonzero(dist < radius)), key=lambda p: (p[0], dist[p], p[1]))


@pytest.mark.parametrize("chunk", [grid.CHUNK_PAIRS, 7])
def test_same_pairs_as_brute_force_in_utm_coordinates(monkeypatch, chunk):
    monkeypatch.setattr(grid, "CHUNK_PAIRS", chunk)
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 300, (300, 2)) + [450000.0, 7250000.0]
    d = np.concatenate([rng.uniform(0, 300, (400, 2)), rng.uniform(-50, 0, (20, 2))]) + [450000.0, 7250000.0]
    qi, di, dist = pairs_within(q, d, 30.0)
    assert list(zip(qi.tolist(), di.tolist())) == [(int(a), int(b)) for a, b in brute_force(q, d, 30.0)]
    assert np.allclose(dist, np.linalg.norm(q[qi] - d[di], axis=1)) and (dist < 30.0).all()


def test_the_radius_is_strict_and_empty_inputs_give_no_pairs():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    qi, di, _ = pairs_within(line, line, 10.0)
    assert list(zip(qi.tolist(), di.tolist())) == [(0, 0), (1, 1), (2, 2)]
    for q, d in ((np.zeros((0, 2)), line), (line, np.zeros((0, 2)))):
        assert all(a.size == 0 for a in pairs_within(q, d, 5.0))
    with pytest.raises(ValueError, match="radius must be positive"):
        pairs_within(line, line, 0.0)


def test_radii_below_one_metre_and_empty_inputs():
    q_idx, d_idx, dist = pairs_within(np.array([[0.0, 0.0]]), np.array([[0.3, 0.0], [0.6, 0.0]]), 0.5)
    assert q_idx.tolist() == [0] and d_idx.tolist() == [0] and dist.tolist() == pytest.approx([0.3])
    for q, d in ((np.zeros((0, 2)), np.zeros((1, 2))), (np.zeros((1, 2)), np.zeros((0, 2)))):
        q_idx, d_idx, dist = pairs_within(q, d, 5.0)
        assert q_idx.dtype == d_idx.dtype == np.int64 and q_idx.size == d_idx.size == dist.size == 0
