"""The runtime path (ONNX Runtime + the map's flat FAISS index) reproduces `vgssl-train eval` on real data."""

from __future__ import annotations

import json

import pytest

from vgssl_ros.core import Embedder, Map
from vgssl_ros.datasets import load_rgb, read_vpr_folder
from vgssl_ros.geo import EVAL_RADIUS_M, neighbours_within
from vgssl_ros.mapping.cli import main as vgssl_map
from vgssl_ros.metrics import RECALL_NS, recall_at_n
from vgssl_train.cli import main as vgssl_train


@pytest.mark.slow
def test_runtime_recall_matches_training_eval_on_nordland(nordland, onnx_model, tmp_path):
    result = tmp_path / "eval.json"
    assert (
        vgssl_train(
            [
                "eval",
                "--dataset",
                str(nordland),
                "--split",
                "test",
                "--resize",
                "32",
                "64",
                "--weights",
                "imagenet",
                "--json",
                str(result),
            ]
        )
        == 0
    )
    trainer_recall = json.loads(result.read_text())["recall"]

    split = nordland / "images" / "test"
    assert (
        vgssl_map(
            [
                "build",
                "--model",
                str(onnx_model),
                "--images",
                str(split / "database"),
                "--out",
                str(tmp_path / "map"),
                "--index",
                "flat",
            ]
        )
        == 0
    )
    embedder = Embedder(onnx_model, intra_op_threads=2)
    m = Map.load(tmp_path / "map", embedder.model_sha256, embedder.dim)
    queries = read_vpr_folder(split / "queries")
    _, predictions = m.search(embedder.embed([load_rgb(p) for p in queries.paths]), max(RECALL_NS))
    runtime_recall = recall_at_n(predictions, neighbours_within(queries.utm, m.places.utm, EVAL_RADIUS_M))

    assert len(m.places) == 1010 and len(queries) == 1010
    for n in RECALL_NS:
        assert abs(runtime_recall[n] - trainer_recall[str(n)]) <= 0.5, (n, runtime_recall, trainer_recall)
