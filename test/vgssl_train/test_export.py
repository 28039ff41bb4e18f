"""`vgssl-train export`: the model.onnx contract, parity before writing, fp16."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from test.conftest import place_image
from vgssl_train.cli import main
from vgssl_train.export import ParityError, export_onnx
from vgssl_train.models import DescriptorModel, ModelSpec
from vgssl_train.training.checkpoint import save_checkpoint

REQUIRED_METADATA = (
    "vgssl.input_height",
    "vgssl.input_width",
    "vgssl.descriptor_dim",
    "vgssl.backbone",
    "vgssl.aggregation",
    "vgssl.method",
    "vgssl.run_id",
)


@pytest.mark.slow
def test_exported_model_meets_the_contract(onnx_model):
    proto = onnx.load(str(onnx_model))
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert all(k in meta for k in REQUIRED_METADATA)
    assert (meta["vgssl.input_height"], meta["vgssl.input_width"], meta["vgssl.descriptor_dim"]) == ("32", "64", "1280")
    assert meta["vgssl.backbone"] == "efficientnet_lite0" and meta["vgssl.aggregation"] == "gem"
    session = ort.InferenceSession(str(onnx_model), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, inp.shape[1:]) == ("image", "tensor(uint8)", [32, 64, 3])
    assert isinstance(inp.shape[0], str), "batch must be dynamic"
    assert (out.name, out.type) == ("descriptor", "tensor(float)")
    images = np.stack([place_image(p) for p in range(3)])
    batch3 = session.run(None, {"image": images})[0]
    batch1 = session.run(None, {"image": images[1:2]})[0]
    assert batch3.shape == (3, 1280) and batch1.shape == (1, 1280)
    np.testing.assert_allclose(np.linalg.norm(batch3, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batch1[0], batch3[1], atol=1e-5)


@pytest.mark.slow
def test_failing_parity_writes_nothing(session_dataset, tmp_path):
    model = DescriptorModel(ModelSpec(), weights=None)
    paths = sorted(str(p) for p in (session_dataset / "images" / "val" / "database").iterdir())[:4]
    out = tmp_path / "m.onnx"
    with pytest.raises(ParityError, match="not written"):
        export_onnx(model, {"model_spec": model.spec.to_dict()}, 32, 64, out, paths, min_cosine=1.01)
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_fp16_export_keeps_parity(session_dataset, tmp_path, capsys):
    out = tmp_path / "m16.onnx"
    assert (
        main(
            [
                "export",
                "--resize",
                "32",
                "64",
                "--fp16",
                "--out",
                str(out),
                "--parity-images",
                str(session_dataset / "images" / "test"),
                "--parity-count",
                "6",
            ]
        )
        == 0
    )
    assert "top-1 agreement 100%" in capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["vgssl.precision"] == "fp16"


def test_export_without_images_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(
        [
            "export",
            "--resize",
            "32",
            "64",
            "--out",
            str(tmp_path / "m.onnx"),
            "--parity-images",
            str(tmp_path / "empty"),
        ]
    )
    assert rc == 2 and "no images" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.slow
def test_checkpoint_export_carries_method_run_id_and_size(session_dataset, tmp_path):
    model = DescriptorModel(ModelSpec(aggregation="gem", fc_dim=64), weights=None)
    ckpt = tmp_path / "run.pt"
    save_checkpoint(
        ckpt,
        {
            "model_spec": model.spec.to_dict(),
            "model": model.state_dict(),
            "method": "simclr",
            "run_id": "run-42",
            "resize": [32, 64],
        },
    )
    out = tmp_path / "m.onnx"
    assert (
        main(
            [
                "export",
                "--checkpoint",
                str(ckpt),
                "--out",
                str(out),
                "--parity-images",
                str(session_dataset / "images" / "val"),
                "--parity-count",
                "6",
            ]
        )
        == 0
    )
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert (meta["vgssl.method"], meta["vgssl.run_id"], meta["vgssl.descriptor_dim"]) == ("simclr", "run-42", "64")
    assert (meta["vgssl.input_height"], meta["vgssl.input_width"], meta["vgssl.fc_dim"]) == ("32", "64", "64")


@pytest.mark.slow
def test_checkpoint_export_at_another_size_warns_naming_both(session_dataset, tmp_path, capsys):
    model = DescriptorModel(ModelSpec(aggregation="gem"), weights=None)
    ckpt = tmp_path / "run.pt"
    save_checkpoint(
        ckpt, {"model_spec": model.spec.to_dict(), "model": model.state_dict(), "method": "simclr", "resize": [32, 64]}
    )
    out = tmp_path / "m.onnx"
    images = str(session_dataset / "images" / "val")
    argv = ["export", "--checkpoint", str(ckpt), "--out", str(out), "--parity-images", images, "--parity-count", "4"]
    assert main([*argv, "--resize", "48", "64"]) == 0
    assert "exporting at 48x64, but the checkpoint was trained at 32x64" in capsys.readouterr().err
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert (meta["vgssl.input_height"], meta["vgssl.input_width"]) == ("48", "64")


@pytest.mark.parametrize(("cosine", "top1"), [(1.0, 0.75), (0.5, 1.0)])
def test_parity_needs_both_cosine_and_identical_top1(tmp_path, monkeypatch, cosine, top1):
    from vgssl_train.export import onnx_export

    # No real export (that is the slow tier): a stand-in graph and parity report, to test the criterion alone.
    monkeypatch.setattr(onnx_export, "_export_proto", lambda *args: onnx.ModelProto())
    report = {"images": 4, "min_cosine": cosine, "top1_agreement": top1}
    monkeypatch.setattr(onnx_export, "check_parity", lambda *args: dict(report))
    model = DescriptorModel(ModelSpec(backbone="resnet18", layer="conv4", aggregation="gem", fc_dim=8), weights=None)
    out = tmp_path / "m.onnx"
    with pytest.raises(ParityError, match="not written"):
        export_onnx(model, {"model_spec": model.spec.to_dict()}, 32, 64, out, ["a.png"] * 4, min_cosine=0.9999)
    assert list(tmp_path.iterdir()) == []
    report.update(min_cosine=1.0, top1_agreement=1.0)
    written = export_onnx(model, {"model_spec": model.spec.to_dict()}, 32, 64, out, ["a.png"] * 4)
    assert out.is_file() and written["top1_agreement"] == 1.0


def test_activation_parity_is_required_too(tmp_path, monkeypatch):
    from vgssl_train.export import onnx_export

    # As above: a stand-in graph and parity figures; the descriptor matches, the activation maps do not.
    monkeypatch.setattr(onnx_export, "_export_proto", lambda *args: onnx.ModelProto())
    report = {"images": 4, "min_cosine": 1.0, "top1_agreement": 1.0}
    monkeypatch.setattr(onnx_export, "check_parity", lambda *args: dict(report))
    monkeypatch.setattr(onnx_export, "check_activation_parity", lambda *args: 0.9)
    model = DescriptorModel(ModelSpec(backbone="resnet18", layer="conv4", aggregation="gem"), weights=None)
    out = tmp_path / "m.onnx"
    meta = {"model_spec": model.spec.to_dict()}
    with pytest.raises(ParityError, match="activation maps min cosine 0.900000"):
        export_onnx(model, meta, 32, 64, out, ["a.png"] * 4, activation=True)
    assert list(tmp_path.iterdir()) == []
    assert export_onnx(model, meta, 32, 64, out, ["a.png"] * 4)["path"] == str(out)  # not asked: not checked


@pytest.mark.slow
def test_activation_output_follows_the_descriptor_and_matches_pytorch(session_dataset, tmp_path, capsys):
    import torch

    from vgssl_ros.core import Embedder
    from vgssl_train.export import RgbUint8Model

    out = tmp_path / "act.onnx"
    images = str(session_dataset / "images" / "test")
    argv = ["export", "--resize", "64", "128", "--out", str(out), "--parity-images", images, "--parity-count", "6"]
    assert main([*argv, "--activation"]) == 0
    assert "activation maps min cosine 1.0000" in capsys.readouterr().out
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    outputs = session.get_outputs()
    assert [o.name for o in outputs] == ["descriptor", "activation"]  # output 0 stays the descriptor
    assert outputs[1].type == "tensor(float)" and outputs[1].shape[1:] == [2, 4]
    batch = np.stack([place_image(p, height=64, width=128) for p in range(3)])
    maps = Embedder(out).activations(list(batch), batch_size=2)  # the runtime reads it without torch
    model = RgbUint8Model(DescriptorModel(ModelSpec(), weights="imagenet"), activation=True).eval()
    with torch.no_grad():
        descriptor, reference = model(torch.from_numpy(batch))
    assert maps.shape == (3, 2, 4) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, reference.numpy(), atol=1e-4)
    np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0, atol=1e-6)
    np.testing.assert_allclose(Embedder(out).embed(list(batch)), descriptor.numpy(), atol=1e-5)
