"""GeoPair mining as pure functions over positions and features (no images)."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.geo import neighbours_within
from vgssl_train.mining import database_to_embed, mine_pairs, trainable_queries


def _world():
    """Database every 8 m on a line; queries at 0, 45 and 500 m (the last has no positive)."""
    db = np.stack([np.zeros(10), np.arange(10) * 8.0], axis=1)
    q = np.array([[0.0, 0.0], [0.0, 45.0], [0.0, 500.0]])
    return q, db, neighbours_within(q, db, 10.0), neighbours_within(q, db, 25.0)


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_trainable_queries_keep_those_with_a_positive():
    _, _, pos10, _ = _world()
    assert trainable_queries(pos10).tolist() == [0, 1]


def test_positive_is_the_geo_neighbour_nearest_in_feature_space_and_negatives_are_far():
    q, db, pos10, pos25 = _world()
    # query 1 at 45 m has positives db 6 (48 m) and db 5 (40 m); features make db 5, the farther, its look-alike.
    rng = np.random.default_rng(0)
    db_f = _unit(rng.normal(size=(10, 8)))
    q_f = _unit(np.stack([db_f[0] + 0.1, db_f[5] + 0.05, db_f[9]]))
    # hard negatives: make db 7 and db 5 the most similar far images of query 0.
    db_f[7] = _unit(q_f[0:1] + 0.01)[0]
    db_f[8] = _unit(q_f[0:1] + 0.3)[0]
    ids = np.arange(10)
    pairs = mine_pairs("full", pos10, pos25, 10, 2, rng, q_f, ids, db_f)
    assert pairs.queries.tolist() == [0, 1]
    assert pos10[1].tolist() == [6, 5]
    assert pairs.positives.tolist() == [0, 5]
    assert pairs.negatives[0].tolist() == [7, 8]
    for qi, negs in zip(pairs.queries, pairs.negatives):
        assert np.all(np.linalg.norm(db[negs] - q[qi], axis=1) > 25.0)


def test_partial_mining_embeds_positives_plus_a_sample_and_mines_inside_it():
    q, db, pos10, pos25 = _world()
    rng = np.random.default_rng(3)
    ids = database_to_embed("partial", pos10, 10, 3, rng)
    several = [p for p in pos10 if len(p) > 1]
    assert several and set(np.concatenate(several)).issubset(ids)
    assert len(ids) <= 3 + sum(len(p) for p in several)
    db_f = _unit(np.random.default_rng(1).normal(size=(10, 4)))
    q_f = _unit(np.random.default_rng(2).normal(size=(3, 4)))
    pairs = mine_pairs("partial", pos10, pos25, 10, 1, rng, q_f, ids, db_f[ids])
    assert set(pairs.negatives.ravel()).issubset(ids)
    assert database_to_embed("full", pos10, 10, 3, rng).tolist() == list(range(10))
    assert database_to_embed("random", pos10, 10, 3, rng).size == 0


def test_random_mode_needs_no_features_and_respects_the_radii():
    q, db, pos10, pos25 = _world()
    pairs = mine_pairs("random", pos10, pos25, 10, 3, np.random.default_rng(0))
    assert pairs.negatives.shape == (2, 3)
    for qi, p, negs in zip(pairs.queries, pairs.positives, pairs.negatives):
        assert p in pos10[qi] and not set(negs) & set(pos25[qi]) and len(set(negs)) == 3


def test_bad_inputs_are_clear_errors():
    q, db, pos10, pos25 = _world()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="valid modes: random, partial, full"):
        mine_pairs("hard", pos10, pos25, 10, 1, rng)
    with pytest.raises(ValueError, match="needs query and database features"):
        mine_pairs("full", pos10, pos25, 10, 1, rng)
    with pytest.raises(ValueError, match="no query has a database image"):
        mine_pairs("random", [np.zeros(0, np.int64)] * 3, pos25, 10, 1, rng)
    with pytest.raises(ValueError, match="fewer negatives"):
        mine_pairs("random", pos10, pos25, 10, 9, rng)


def test_a_lone_positive_is_paired_without_embedding_it():
    pos10 = [np.array([3]), np.array([4, 5])]
    excluded = [np.array([2, 3, 4]), np.array([3, 4, 5, 6])]
    rng = np.random.default_rng(0)
    ids = database_to_embed("partial", pos10, 10, 3, rng)
    assert {4, 5} <= set(ids) and len(ids) <= 5
    db_f = _unit(np.random.default_rng(1).normal(size=(10, 4)))
    q_f = _unit(np.stack([db_f[3], db_f[5] + 0.01]))
    pairs = mine_pairs("partial", pos10, excluded, 10, 1, rng, q_f, ids, db_f[ids])
    assert pairs.positives.tolist() == [3, 5]
