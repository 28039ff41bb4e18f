"""LocalizerCore hands back the frame's activation map when asked and the model has one, from the same model run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from test.conftest import ORIGIN, ZONE
from test.vgssl_ros.activation_model import half_red, red_model
from vgssl_ros.core import Embedder, Places
from vgssl_ros.core.assemble import build_localizer
from vgssl_ros.core.settings import LocalizerSettings
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.mapping import write_map


def _assets(root: Path, activation: bool) -> tuple[Path, Path]:
    model = red_model(root / f"model_{activation}.onnx", activation)
    emb = Embedder(model)
    utm = ORIGIN + np.c_[np.zeros(2), [0.0, 40.0]]
    places = Places(utm, utm_to_latlon(utm, ZONE), np.zeros(2), np.zeros(2), np.array(["left", "right"]))
    descriptors = emb.embed([half_red(8, 16), half_red(8, 16, red_left=False)])
    geo_map = root / f"map_{activation}"
    write_map(geo_map, descriptors, places, ZONE, emb.model_sha256, emb.metadata, "flat", {"kind": "test"})
    return model, geo_map


def test_activation_only_when_asked_and_the_model_has_it(tmp_path):
    settings = LocalizerSettings.from_values({"filter_enabled": False})
    core = build_localizer(*_assets(tmp_path, True), settings)
    frame = half_red(48, 64)
    plain, asked = core.localize_rgb(frame), core.localize_rgb(frame, activation=True)
    assert plain.activation is None
    assert asked.activation is not None and asked.activation.shape == (8, 16)
    assert asked.activation[:, :8].min() > 0.99 and asked.activation[:, 8:].max() < 0.01
    assert asked.answer.place == plain.answer.place and asked.estimate.top1_similarity == plain.estimate.top1_similarity
    without = build_localizer(*_assets(tmp_path, False), settings)
    assert without.localize_rgb(frame, activation=True).activation is None  # a plain model: as before, no map
