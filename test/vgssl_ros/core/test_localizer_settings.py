"""The settings table, the core's answers (single and filtered), and atomic settings swaps."""

from __future__ import annotations

import threading
from dataclasses import fields, replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from vgssl_ros.core.estimate import EstimatorConfig
from vgssl_ros.core.filter import FilterConfig, filter_for_map
from vgssl_ros.core.localizer import LocalizerCore
from vgssl_ros.core.map import Map
from vgssl_ros.core.places import Places
from vgssl_ros.core.settings import SETTINGS, LocalizerSettings
from vgssl_ros.geo import UtmZone

N, DIM, SPACING = 40, 16, 10.0


class FakeEmbedder:
    """Stands in for the ONNX embedder: the 'image' is the descriptor [DIM] itself."""

    dim, providers, model_sha256 = DIM, ["CPUExecutionProvider"], "0" * 64

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        return np.stack([np.asarray(i, np.float32) for i in images])


def fake_map(seed: int = 0) -> Map:
    """N places on a line every SPACING m heading north (0 deg), random unit descriptors."""
    rng = np.random.default_rng(seed)
    desc = rng.normal(size=(N, DIM)).astype(np.float32)
    desc /= np.linalg.norm(desc, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(DIM)
    index.add(desc)
    utm = np.stack([np.full(N, 450000.0), 7250000.0 + SPACING * np.arange(N)], axis=1)
    nan = np.full(N, np.nan)
    places = Places(utm, np.zeros((N, 2)), np.zeros(N), nan, np.array([str(i) for i in range(N)]))
    info = {"descriptor_dim": DIM}
    return Map(Path("fake_map"), info, index, places, UtmZone(33, "W"), utm.mean(axis=0))


def make_core(settings: LocalizerSettings) -> LocalizerCore:
    geo_map = fake_map()
    flt = filter_for_map(geo_map, settings.filter_config, settings.estimator) if settings.filter_enabled else None
    return LocalizerCore(FakeEmbedder(), geo_map, settings, flt)  # type: ignore[arg-type]


def view(core: LocalizerCore, place: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    desc = core.map.index.reconstruct(place)
    q = desc + noise * rng.normal(size=DIM).astype(np.float32)
    return q / np.linalg.norm(q)


def test_table_defaults_are_the_components_defaults_and_the_filter_is_on():
    s = LocalizerSettings()
    assert s.filter_enabled is True
    assert s.filter_config == FilterConfig() and s.estimator == EstimatorConfig()
    assert {f"filter_{f.name}" for f in fields(FilterConfig)} <= set(SETTINGS)
    assert all(SETTINGS[n].description for n in SETTINGS)
    assert {n for n, row in SETTINGS.items() if row.runtime} == {
        "top_k",
        "match_radius_m",
        "min_similarity",
        "min_margin",
        "min_std_m",
        "max_image_pixels",
        "filter_min_confidence",
    }


@pytest.mark.parametrize(
    "values,expect",
    [
        ({"top_k": 0}, "top_k=0 is out of range [1, 1000]"),
        ({"filter_jump_prob": 1.5}, "filter_jump_prob=1.5 is out of range [0, 1]"),
        ({"filter_min_confidence": 1.01}, "filter_min_confidence=1.01 is out of range [0, 1]"),
        ({"filter_min_confidence": -0.01}, "filter_min_confidence=-0.01 is out of range [0, 1]"),
        ({"execution_providers": ["gpu"]}, "execution_providers=['gpu'] is not valid"),
        ({"min_std_m": float("nan")}, "min_std_m=nan is out of range"),
        ({"no_such": 1}, "unknown setting(s) ['no_such']"),
    ],
)
def test_bad_settings_name_the_setting_and_its_range(values, expect):
    with pytest.raises(ValueError, match=None) as info:
        LocalizerSettings.from_values(values)
    assert expect in str(info.value)


def test_from_values_converts_parameter_types():
    s = LocalizerSettings.from_values({"execution_providers": ["cuda", "cpu"], "match_radius_m": 30, "top_k": 5})
    assert s.execution_providers == ("cuda", "cpu") and s.match_radius_m == 30.0 and type(s.match_radius_m) is float
    assert LocalizerSettings.from_values(s.values()) == s


def test_single_frame_answer_without_filter():
    core = make_core(LocalizerSettings(filter_enabled=False, top_k=5))
    result = core.localize_rgb(view(core, 12, 0.05, np.random.default_rng(0)), 1.0)
    a = result.answer
    assert a.mode == "single" and a.accepted and a.place == 12 and a.heading_deg == 0.0
    assert a.position.shape == (2,) and a.covariance.shape == (2, 2) and 0.0 <= a.probability <= 1.0
    assert result.candidate_utm.shape == (5, 2) and result.candidate_heading_deg.shape == (5,)
    np.testing.assert_allclose(result.candidate_utm, core.map.places.utm[result.candidates])


def test_similarity_gates_single_frames_and_confidence_gates_the_filtered_fix():
    """min_similarity / min_margin reject the single-frame answer only; the filtered fix obeys
    filter_min_confidence and the filter's status."""
    rng = np.random.default_rng(1)
    core = make_core(LocalizerSettings(min_similarity=0.99, min_margin=0.5))
    results = [core.localize_rgb(view(core, p, 0.3, rng), float(p)) for p in range(10)]
    assert not any(r.estimate.accepted for r in results)  # no single frame reaches similarity 0.99
    last = results[-1].answer
    assert last.mode == "filtered" and last.accepted and abs(last.place - 9) <= 1, last
    assert last.probability == pytest.approx(results[-1].filtered.confidence)
    core.settings = replace(core.settings, filter_min_confidence=1.0)
    strict = core.localize_rgb(view(core, 10, 0.3, rng), 10.0).answer
    assert not strict.accepted and "confidence" in strict.reason


def test_out_of_order_frame_is_rejected_not_a_fresh_fix():
    rng = np.random.default_rng(2)
    core = make_core(LocalizerSettings(filter_min_confidence=0.0))  # every in-order frame answered
    for p in range(6):
        assert core.localize_rgb(view(core, p, 0.1, rng), float(p)).answer.accepted
    late = core.localize_rgb(view(core, 3, 0.1, rng), 2.5)
    assert late.filtered.status == "out_of_order"
    assert not late.answer.accepted and "not newer" in late.answer.reason


def test_a_frame_never_sees_half_a_settings_swap():
    """Two consistent settings swapped in from another thread while frames run: every frame shows one of
    them whole (top_k and the similarity gate together)."""
    loose = LocalizerSettings(filter_enabled=False, top_k=2, min_similarity=-1.0)
    strict = LocalizerSettings(filter_enabled=False, top_k=7, min_similarity=1.0)
    core = make_core(loose)
    assert not {"top_k", "config", "max_pixels", "min_probability"} & set(vars(core))  # one settings object only
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            core.settings = strict if core.settings is loose else loose

    swapper = threading.Thread(target=swap)
    swapper.start()
    rng = np.random.default_rng(3)
    seen = set()
    try:
        for i in range(400):
            r = core.localize_rgb(view(core, i % N, 0.05, rng))
            seen.add((len(r.candidates), r.estimate.accepted))
    finally:
        stop.set()
        swapper.join()
    assert seen == {(2, True), (7, False)}, seen  # both seen, never a mix
