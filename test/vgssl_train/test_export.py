"""`vgssl-train export`: the model.onnx contract, parity before writing, fp16."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

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


# --- fast checks of the export pieces (issue 19 mutation testing): no real export, stand-in graphs and figures.


class _MeanColour(torch.nn.Module):
    """Stand-in descriptor model: per-channel mean [N, 3]; activation maps = channel sum [N, H, W]."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.dtype == self.scale.dtype, f"the graph fed {x.dtype} to a {self.scale.dtype} model"
        return x.mean(dim=(2, 3)) * self.scale

    def forward_with_activation(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self(x), x.sum(dim=1)


def test_the_graph_wrapper_normalises_uint8_nhwc_like_imagenet():
    from vgssl_train.export.wrapper import RgbUint8Model

    image = torch.tensor(place_image(3, height=4, width=6)).unsqueeze(0)  # uint8 [1, 4, 6, 3]
    x = image.permute(0, 3, 1, 2).float() / 255.0
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    expected = (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    out = RgbUint8Model(_MeanColour()).eval()(image)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, expected.mean(dim=(2, 3)), rtol=1e-5, atol=1e-5)
    descriptor, activation = RgbUint8Model(_MeanColour(), activation=True).eval()(image)
    torch.testing.assert_close(activation, expected.sum(dim=1), rtol=1e-5, atol=1e-5)
    assert descriptor.dtype == activation.dtype == torch.float32 and activation.shape == (1, 4, 6)
    half = RgbUint8Model(_MeanColour().half()).eval()
    assert half.dtype == torch.float16 and half(image).dtype == torch.float32  # fp16 inside, float32 out


def test_onnx_metadata_is_the_contract():
    from vgssl_train.export.metadata import onnx_metadata

    spec = {"backbone": "resnet18", "layer": "conv4", "aggregation": "gem", "fc_dim": 8}
    assert onnx_metadata(spec, 8, 48, 64, "simclr", "run-7", "fp16") == {
        "vgssl.format": "1",
        "vgssl.input_height": "48",
        "vgssl.input_width": "64",
        "vgssl.descriptor_dim": "8",
        "vgssl.backbone": "resnet18",
        "vgssl.layer": "conv4",
        "vgssl.aggregation": "gem",
        "vgssl.fc_dim": "8",
        "vgssl.method": "simclr",
        "vgssl.run_id": "run-7",
        "vgssl.precision": "fp16",
        "vgssl.metric": "inner_product",
    }
    blank = onnx_metadata(spec, 8, 48, 64, "", None, "fp32")
    assert (blank["vgssl.method"], blank["vgssl.run_id"]) == ("none", "")


PATHS, SIZE, BLOB = ["a.png", "b.png", "c.png", "d.png"], (8, 9), b"graph"


def _stand_in_parity(monkeypatch, reference: np.ndarray, exported: np.ndarray, model: object = "model"):
    """check_parity's inputs replaced: each stand-in checks it gets the same images at the same size."""
    from vgssl_train.export import onnx_export

    def torch_side(m, paths, height, width, **kwargs):
        assert (m, list(paths), (height, width)) == (model, PATHS[: len(reference)], SIZE)
        assert not kwargs.get("progress") and kwargs.get("batch_size", 1) > 0
        return reference

    def onnx_side(onnx_bytes, name, paths, height, width):
        assert (onnx_bytes, list(paths), (height, width)) == (BLOB, PATHS[: len(reference)], SIZE)
        assert name == ("descriptor" if reference.ndim == 2 else "activation")
        return exported

    monkeypatch.setattr(onnx_export, "embed_paths", torch_side)
    monkeypatch.setattr(onnx_export, "activation_paths", torch_side)
    monkeypatch.setattr(onnx_export, "_onnx_output", onnx_side)
    return onnx_export


def _rows(*vectors) -> np.ndarray:
    x = np.array(vectors, np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_parity_report_counts_cosine_top1_and_norm(monkeypatch):
    reference = _rows([1, 0, 0], [0, 1, 0], [1, 0.1, 0], [0.1, 1, 0])  # queries 2, 3 match database 0, 1
    exported = reference.copy()
    exported[3] = [0.9, 0.2, 0.0]  # the last query now finds database 0 and is not unit length
    onnx_export = _stand_in_parity(monkeypatch, reference, exported)
    report = onnx_export.check_parity("model", BLOB, PATHS, *SIZE)
    cos = float(reference[3] @ exported[3] / np.linalg.norm(exported[3]))
    assert report["images"] == 4 and report["top1_agreement"] == 0.5
    assert report["min_cosine"] == pytest.approx(cos, abs=1e-6)
    assert report["max_norm_error"] == pytest.approx(abs(float(np.linalg.norm(exported[3])) - 1.0), abs=1e-6)
    same = _stand_in_parity(monkeypatch, reference, 2 * reference).check_parity("model", BLOB, PATHS, *SIZE)
    assert same["top1_agreement"] == 1.0 and same["min_cosine"] == pytest.approx(1.0, abs=1e-6)


def test_activation_parity_is_the_smallest_cosine_and_shapes_must_match(monkeypatch):
    reference = np.ones((3, 2, 2), np.float32)
    exported = reference.copy()
    exported[1, 0, 0] = -1.0  # cosine 0.5
    onnx_export = _stand_in_parity(monkeypatch, reference, exported)
    assert onnx_export.check_activation_parity("model", BLOB, PATHS[:3], *SIZE) == pytest.approx(0.5)
    onnx_export = _stand_in_parity(monkeypatch, reference, np.ones((3, 4, 1), np.float32))
    with pytest.raises(ParityError, match=r"^ONNX activation maps have shape \(3, 4, 1\), PyTorch's \(3, 2, 2\)$"):
        onnx_export.check_activation_parity("model", BLOB, PATHS[:3], *SIZE)


def test_export_report_and_refusals_without_a_real_export(tmp_path, monkeypatch):
    import hashlib

    from vgssl_train.export import onnx_export
    from vgssl_train.export.wrapper import RgbUint8Model

    model = DescriptorModel(ModelSpec(backbone="resnet18", layer="conv4", aggregation="gem", fc_dim=8), weights=None)
    calls: list[str] = []

    def export_proto(wrapper, height, width, activation):
        assert isinstance(wrapper, RgbUint8Model) and not wrapper.training and (height, width) == (32, 64)
        assert wrapper.activation is activation and wrapper.dtype == (torch.float16 if fp16 else torch.float32)
        return onnx.ModelProto(producer_name="stand-in")

    def parity(m, blob, paths, height, width):
        assert m is model and list(paths) == PATHS and (height, width) == (32, 64)
        assert onnx.load_from_string(blob).producer_name == "stand-in"
        calls.append("descriptor")
        return dict(report)

    def activation_parity(m, blob, paths, height, width):
        assert m is model and list(paths) == PATHS and (height, width) == (32, 64)
        assert onnx.load_from_string(blob).producer_name == "stand-in"
        calls.append("activation")
        return activation_cosine

    monkeypatch.setattr(onnx_export, "_export_proto", export_proto)
    monkeypatch.setattr(onnx_export, "check_parity", parity)
    monkeypatch.setattr(onnx_export, "check_activation_parity", activation_parity)
    report, activation_cosine, fp16 = {"images": 4, "min_cosine": 0.99995, "top1_agreement": 1.0}, 1.0, True
    meta = {"model_spec": model.spec.to_dict(), "method": "byol", "run_id": "r1"}
    out = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match="^parity needs at least 4 real images, got 3$"):
        export_onnx(model, meta, 32, 64, out, PATHS[:3])
    written = export_onnx(model, meta, 32, 64, out, PATHS, fp16=True)
    blob = out.read_bytes()
    assert written["sha256"] == hashlib.sha256(blob).hexdigest() and written["path"] == str(out)
    assert written["dim"] == 8 and written["min_cosine"] == 0.99995 and "activation_min_cosine" not in written
    assert calls == ["descriptor"]
    stored = {p.key: p.value for p in onnx.load_from_string(blob).metadata_props}
    assert stored == written["metadata"] and stored["vgssl.precision"] == "fp16" and stored["vgssl.method"] == "byol"
    assert stored["vgssl.run_id"] == "r1" and (stored["vgssl.input_height"], stored["vgssl.input_width"]) == (
        "32",
        "64",
    )
    assert stored["vgssl.descriptor_dim"] == "8"
    assert next(model.parameters()).dtype == torch.float32  # fp16 exports a copy
    fp16 = False
    plain = export_onnx(model, {"model_spec": model.spec.to_dict()}, 32, 64, out, PATHS)["metadata"]
    assert (plain["vgssl.precision"], plain["vgssl.method"], plain["vgssl.run_id"]) == ("fp32", "none", "")
    report.update(min_cosine=0.9998, top1_agreement=0.75)
    with pytest.raises(ParityError) as err:
        export_onnx(model, meta, 32, 64, tmp_path / "n.onnx", PATHS)
    assert str(err.value) == (
        "ONNX parity failed: min cosine 0.999800 (need >= 0.9999), top-1 agreement 75.0% (need 100%) on 4 images; "
        f"{tmp_path / 'n.onnx'} not written"
    )
    report.update(min_cosine=0.9999, top1_agreement=1.0)
    activation_cosine = 0.9999
    assert export_onnx(model, meta, 32, 64, out, PATHS, activation=True)["activation_min_cosine"] == 0.9999
    activation_cosine = 0.5
    with pytest.raises(ParityError) as err:
        export_onnx(model, meta, 32, 64, out, PATHS, activation=True, min_cosine=0.6)
    assert str(err.value) == (
        f"ONNX parity failed: activation maps min cosine 0.500000 (need >= 0.6) on 4 images; {out} not written"
    )
