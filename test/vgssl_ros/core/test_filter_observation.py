"""The filter's observation model (observation.py) by hand: centring, z-scores, background, novelty."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.core.filter.observation import ObservationModel

TEMPERATURE = 2.0


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def test_one_frame_by_hand():
    rng = np.random.default_rng(0)
    desc = unit(rng.normal(size=(8, 5)))
    model = ObservationModel(desc, TEMPERATURE, query_mean_rate=0.5, reference_places=8)
    mean = desc.mean(axis=0)
    assert model.reference.tolist() == list(range(8))  # all places when asked for as many
    q = unit(rng.normal(size=5))
    obs = model.frame(q, weight=0.5)
    centred = q - mean  # the first frame is centred on the map's mean
    sims = (desc - mean) @ centred
    z = (sims - sims.mean()) / sims.std() / TEMPERATURE
    np.testing.assert_allclose(obs.loglik(np.arange(8)), z, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(obs.loglik(np.array([3, 1])), z[[3, 1]], rtol=1e-4, atol=1e-5)
    assert obs.background == pytest.approx(np.log(np.mean(np.exp(z))), rel=1e-4)
    assert obs.novelty == 1.0  # nothing seen before
    np.testing.assert_allclose(model.query_mean, mean + 0.5 * 0.5 * (q - mean), rtol=1e-5, atol=1e-6)

    q2 = unit(q + 0.1 * rng.normal(size=5))
    obs2 = model.frame(q2)
    c2 = q2 - (mean + 0.25 * (q - mean))  # centred on the running mean, before it moves
    cos = float(c2 @ centred) / float(np.linalg.norm(c2) * np.linalg.norm(centred))
    assert obs2.novelty == pytest.approx(1.0 - cos, rel=1e-4)
    sims2 = (desc - mean) @ c2
    z2 = (sims2 - sims2.mean()) / sims2.std() / TEMPERATURE
    np.testing.assert_allclose(obs2.loglik(np.arange(8)), z2, rtol=1e-4, atol=1e-5)


def test_the_reference_sample_and_a_zero_rate():
    rng = np.random.default_rng(1)
    desc = unit(rng.normal(size=(50, 4)))
    model = ObservationModel(desc, TEMPERATURE, query_mean_rate=0.0, reference_places=10, seed=3)
    ref = model.reference
    assert len(ref) == 10 and len(set(ref.tolist())) == 10 and ref.tolist() == sorted(ref.tolist())
    assert ObservationModel(desc, TEMPERATURE, 0.0, 10, seed=3).reference.tolist() == ref.tolist()  # seeded
    q = unit(rng.normal(size=4))
    obs = model.frame(q)
    centred = q - desc.mean(axis=0)  # rate 0: always the map's mean
    sims = (desc[ref] - desc.mean(axis=0)) @ centred
    np.testing.assert_allclose(
        obs.loglik(np.arange(50)),
        ((desc - desc.mean(axis=0)) @ centred - sims.mean()) / sims.std() / TEMPERATURE,
        rtol=1e-4,
        atol=1e-5,
    )
    np.testing.assert_array_equal(model.query_mean, desc.mean(axis=0))


def test_the_same_view_again_is_no_news_and_reset_forgets():
    rng = np.random.default_rng(2)
    desc = unit(rng.normal(size=(20, 6)))
    model = ObservationModel(desc, TEMPERATURE, query_mean_rate=0.0, reference_places=20)
    q = unit(rng.normal(size=6))
    model.frame(q)
    assert model.frame(q).novelty == pytest.approx(0.0, abs=1e-6)
    assert model.frame(-q).novelty == 1.0  # opposite: clipped to 1
    model.reset()
    assert model.last_view is None and model.frame(q).novelty == 1.0


def test_bad_descriptors_are_refused():
    desc = unit(np.random.default_rng(3).normal(size=(5, 4)))
    for bad in (np.zeros((0, 4)), np.full((5, 4), np.nan), desc[0]):
        with pytest.raises(ValueError, match=r"map descriptors must be a finite \[N, D\] array"):
            ObservationModel(bad, TEMPERATURE, 0.0, 5)
    model = ObservationModel(desc, TEMPERATURE, 0.0, 5)
    for q in (np.zeros(3), np.full(4, np.inf)):
        with pytest.raises(ValueError, match="descriptor must be finite with dim 4"):
            model.frame(q)


def test_a_frame_moves_the_running_mean_by_the_rate_at_weight_one():
    desc = unit(np.random.default_rng(5).normal(size=(6, 3)))
    model = ObservationModel(desc, TEMPERATURE, query_mean_rate=0.5, reference_places=6)
    q = unit(np.array([1.0, 2.0, 3.0]))
    model.frame(q)
    np.testing.assert_allclose(model.query_mean, desc.mean(axis=0) + 0.5 * (q - desc.mean(axis=0)), rtol=1e-6)


def test_a_view_equal_to_the_mean_is_all_news():
    desc = unit(np.random.default_rng(6).normal(size=(6, 3)))
    model = ObservationModel(desc, TEMPERATURE, query_mean_rate=0.0, reference_places=6)
    model.frame(desc[0])
    assert model.frame(desc.mean(axis=0)).novelty == 1.0  # centred to zero: no cosine, so nothing is repeated


@pytest.mark.parametrize("kind", ["Flat", "HNSW32,Flat", "IVF4,Flat", "IVF4,PQ2x4"])
def test_map_descriptors_come_back_from_every_index_the_map_builder_writes(kind):
    import faiss

    from vgssl_ros.core.filter.observation import map_descriptors

    desc = unit(np.random.default_rng(7).normal(size=(200, 8)))
    index = faiss.index_factory(8, kind, faiss.METRIC_INNER_PRODUCT)
    index.train(desc)
    index.add(desc)
    out = map_descriptors(index)
    assert out.shape == (200, 8) and out.dtype == np.float32 and out.flags.c_contiguous
    if "PQ" in kind:
        assert np.mean(np.sum(out * desc, axis=1)) > 0.5  # decoded codes: near, not equal
    else:
        np.testing.assert_allclose(out, desc, atol=1e-6)


def test_an_index_that_cannot_return_descriptors_is_a_clear_error():
    import faiss

    from vgssl_ros.core.filter.observation import map_descriptors

    desc = unit(np.random.default_rng(8).normal(size=(300, 8)))
    index = faiss.index_factory(8, "ITQ4,LSH")  # the ITQ transform cannot be inverted
    index.train(desc)
    index.add(desc)
    with pytest.raises(
        ValueError, match=r"map's IndexPreTransform index cannot return its descriptors .*rebuild the map"
    ):
        map_descriptors(index)
