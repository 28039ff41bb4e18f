"""Embedder: ONNX Runtime session on an exported model, provider fallback, any image size, bad models."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from test.conftest import place_image
from vgssl_ros.core import Embedder, ModelError
from vgssl_ros.datasets import resize_rgb


@pytest.mark.slow
def test_embedder_reads_metadata_and_falls_back_to_cpu(onnx_model, caplog):
    with caplog.at_level(logging.INFO):
        emb = Embedder(onnx_model, providers=["tensorrt", "cuda", "cpu"], intra_op_threads=1)
    assert emb.providers[-1] == "CPUExecutionProvider"
    assert f"on {emb.providers[0]}" in caplog.text and "asked for tensorrt, cuda, cpu" in caplog.text
    if emb.providers[0] == "CPUExecutionProvider":  # a CPU-only machine: each passed-over provider says why
        assert len(emb.fallbacks) == 2 and all(r in caplog.text for r in emb.fallbacks)
        assert emb.fallbacks[0].startswith("TensorrtExecutionProvider") and "falling back" in emb.fallbacks[1]
    assert emb.input_size == (32, 64) and emb.dim == 1280
    assert emb.metadata["vgssl.backbone"] == "efficientnet_lite0"
    assert emb.model_sha256 == hashlib.sha256(onnx_model.read_bytes()).hexdigest()


@pytest.mark.slow
def test_embed_any_size_through_resize_rgb(onnx_model):
    emb = Embedder(onnx_model)
    big = place_image(3, height=96, width=200)
    small = place_image(4)
    out = emb.embed([big, small], batch_size=1)
    assert out.shape == (2, 1280) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out[0], emb.embed_resized(resize_rgb(big, 32, 64)[None])[0], atol=1e-6)
    assert float(out[0] @ out[1]) < 0.999
    assert emb.embed([]).shape == (0, 1280)
    with pytest.raises(ValueError, match="uint8 RGB"):
        emb.embed([big.astype(np.float32)])


@pytest.mark.slow
def test_activations_of_a_model_exported_without_them_is_a_clear_error(onnx_model):
    with pytest.raises(ModelError, match="no 'activation' output; export it with `vgssl-train export --activation`"):
        Embedder(onnx_model).activations([place_image(0)])


def test_a_provider_missing_from_the_build_and_one_failing_to_start_each_say_why(monkeypatch):
    import onnxruntime as ort

    from vgssl_ros.core.embedder import provider_fallbacks

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    reasons = provider_fallbacks(["tensorrt", "cuda", "cpu"], ["CPUExecutionProvider"])
    assert (
        "TensorrtExecutionProvider is not in this ONNX Runtime build" in reasons[0] and "onnxruntime-gpu" in reasons[0]
    )
    assert "CUDAExecutionProvider is in this ONNX Runtime build but did not start" in reasons[1]
    assert provider_fallbacks(["cuda", "cpu"], ["CUDAExecutionProvider", "CPUExecutionProvider"]) == []
    assert provider_fallbacks(["cpu"], ["CPUExecutionProvider"]) == []


@pytest.mark.slow
def test_unknown_provider_names_the_valid_ones(onnx_model):
    with pytest.raises(ValueError, match="valid: tensorrt, cuda, cpu"):
        Embedder(onnx_model, providers=["openvino"])


@pytest.mark.slow
def test_truncated_or_missing_model_is_a_clear_error(onnx_model, tmp_path):
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(onnx_model.read_bytes()[: onnx_model.stat().st_size // 2])
    with pytest.raises(ModelError, match="truncated"):
        Embedder(cut)
    with pytest.raises(ModelError, match="does not exist"):
        Embedder(tmp_path / "none.onnx")


def test_foreign_onnx_model_is_refused(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=9,
    )
    path = tmp_path / "foreign.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="not a vgssl descriptor model"):
        Embedder(path)


def test_a_relative_model_path_error_names_the_folder_it_was_resolved_against(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="does not exist") as err:
        Embedder("exports/model.onnx")
    assert f"model exports/model.onnx (relative to {Path.cwd()}) does not exist" in str(err.value)
    with pytest.raises(ModelError) as err:
        Embedder(tmp_path / "model.onnx")
    assert f"model {tmp_path / 'model.onnx'} does not exist" in str(err.value)  # an absolute one is shown as is


def test_descriptor_and_activation_come_from_one_run_and_match_the_single_outputs(tmp_path):
    from test.vgssl_ros.activation_model import half_red, red_model

    emb = Embedder(red_model(tmp_path / "red.onnx"))
    images = [half_red(32, 64), half_red(16, 32, red_left=False), place_image(2)]
    descriptors, maps = emb.embed_with_activations(images, batch_size=2)
    assert emb.has_activation and descriptors.shape == (3, 3) and maps.shape == (3, 8, 16)
    np.testing.assert_allclose(descriptors, emb.embed(images), atol=1e-6)
    np.testing.assert_allclose(maps, emb.activations(images), atol=1e-6)
    assert maps[0][:, :8].min() > 0.99 and maps[0][:, 8:].max() < 0.01  # the red half, left
    assert maps[1][:, 8:].min() > 0.99 and maps[1][:, :8].max() < 0.01  # and right
    empty_descriptors, empty_maps = emb.embed_with_activations([])
    assert empty_descriptors.shape == (0, 3) and empty_maps.shape == (0, 8, 16)


def test_a_model_without_the_activation_output_says_how_to_get_one(tmp_path):
    from test.vgssl_ros.activation_model import half_red, red_model

    emb = Embedder(red_model(tmp_path / "plain.onnx", activation=False))
    assert not emb.has_activation and emb.embed([half_red(8, 16)]).shape == (1, 3)
    with pytest.raises(ModelError, match="export it with `vgssl-train export --activation`"):
        emb.embed_with_activations([half_red(8, 16)])
