"""GeoPair mining as pure functions over positions and features (no images)."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.geo import neighbours_within
from vgssl_train.mining import database_to_embed, mine_pairs, trainable_queries
from vgssl_train.mining.geopair import hard_negatives


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


# --- issue 19 mutation survivors: index dtypes, sample sizes and edge counts that the tests above let slip.


def _as_index(ids: np.ndarray) -> np.ndarray:
    """Use ``ids`` to index a database array, as the trainer does (float indices raise IndexError)."""
    return np.arange(100)[ids]


def test_every_index_array_indexes_even_when_empty():
    assert _as_index(trainable_queries([np.zeros(0, np.int64)] * 2)).size == 0
    assert _as_index(database_to_embed("random", [np.array([1])], 10, 3, np.random.default_rng(0))).size == 0
    q, db, pos10, pos25 = _world()
    db_f = _unit(np.random.default_rng(1).normal(size=(10, 4)))
    q_f = _unit(np.random.default_rng(2).normal(size=(3, 4)))
    for mode, k in (("random", 2), ("full", 2), ("full", 0)):
        feats = (q_f, np.arange(10), db_f) if mode != "random" else (None, None, None)
        pairs = mine_pairs(mode, pos10, pos25, 10, k, np.random.default_rng(0), *feats)
        assert pairs.negatives.shape == (2, k)
        for ids in (pairs.queries, pairs.positives, pairs.negatives):
            assert ids.dtype == np.int64
            _as_index(ids)


def test_one_hard_negative_is_the_nearest_far_image():
    q, db, pos10, pos25 = _world()
    db_f = _unit(np.random.default_rng(1).normal(size=(10, 4)))
    q_f = _unit(np.stack([db_f[8] + 0.01, db_f[0] + 0.01, db_f[0]]))
    pairs = mine_pairs("full", pos10, pos25, 10, 1, np.random.default_rng(0), q_f, np.arange(10), db_f)
    assert pairs.negatives[:, 0].tolist() == [8, 0]


def test_the_partial_sample_has_its_size_without_repeats_and_adds_only_ambiguous_positives():
    positives = [np.array([50]), np.array([60, 61])]  # a lone positive needs no feature; a pair does
    for size in (5, 15, 60):
        rng = np.random.default_rng(4)
        sample = np.sort(np.random.default_rng(4).choice(100, size=size, replace=False))
        ids = database_to_embed("partial", positives, 100, size, rng)
        assert ids.tolist() == sorted(set(sample.tolist()) | {60, 61})
        assert (50 in ids) == (50 in sample) and (0 in ids) == (0 in sample)


def test_missing_features_are_named():
    q, db, pos10, pos25 = _world()
    rng = np.random.default_rng(0)
    q_f, db_f, ids = _unit(np.ones((3, 4))), _unit(np.ones((10, 4))), np.arange(10)
    for missing in ((None, ids, db_f), (q_f, None, db_f), (q_f, ids, None)):
        with pytest.raises(ValueError, match="^mining mode 'full' needs query and database features$"):
            mine_pairs("full", pos10, pos25, 10, 1, rng, *missing)
    with pytest.raises(ValueError, match="^database features are missing for the positives of query 1$"):
        mine_pairs("partial", pos10, pos25, 10, 1, rng, q_f, np.array([0, 1, 2, 5, 7, 8, 9]), db_f[:7])
    with pytest.raises(
        ValueError, match="^no query has a database image within the training radius, so there is no GeoPair$"
    ):
        mine_pairs("random", [np.zeros(0, np.int64)], pos25, 10, 1, rng)
    with pytest.raises(ValueError, match=r"^only 6 database images lie outside 25 m of a query; ask for fewer neg"):
        mine_pairs("full", pos10, pos25, 10, 7, rng, q_f, ids, db_f)


def test_random_negatives_never_repeat_even_when_all_far_images_are_needed():
    q, db, pos10, pos25 = _world()
    far0 = 10 - len(pos25[0])
    for seed in range(5):
        pairs = mine_pairs("random", pos10[:1], pos25[:1], 10, far0, np.random.default_rng(seed))
        assert sorted(pairs.negatives[0].tolist()) == sorted(set(range(10)) - set(pos25[0].tolist()))


def test_hard_negatives_of_no_queries_is_an_empty_table():
    out = hard_negatives(np.zeros((0, 4), np.float32), np.arange(5), _unit(np.eye(5, 4) + 0.1), [], 2)
    assert out.shape == (0, 2) and out.dtype == np.int64
