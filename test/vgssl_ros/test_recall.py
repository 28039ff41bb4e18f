"""The one Recall@N implementation."""

import numpy as np
import pytest

from vgssl_ros.metrics import recall_at_n


def test_recall_at_n_counts_first_hit():
    predictions = np.array([[0, 1, 2], [2, 0, 1], [1, 2, 0], [1, 2, 2]])
    positives = [np.array([0]), np.array([0]), np.array([0]), np.array([], dtype=np.int64)]
    r = recall_at_n(predictions, positives, ns=(1, 2, 3))
    assert r == {1: 25.0, 2: 50.0, 3: 75.0}


def test_recall_at_n_shape_mismatch():
    with pytest.raises(ValueError, match="do not match"):
        recall_at_n(np.zeros((2, 3)), [np.array([0])])


def test_one_query_is_enough_and_none_is_refused():
    assert recall_at_n(np.array([[4, 2]]), [np.array([2])], ns=(1, 2)) == {1: 0.0, 2: 100.0}
    with pytest.raises(ValueError, match="^recall_at_n needs at least one query$"):
        recall_at_n(np.zeros((0, 3), np.int64), [], ns=(1,))
