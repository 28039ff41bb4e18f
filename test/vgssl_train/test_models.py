"""Descriptor models: backbones, aggregators, registries, offline weights."""

from __future__ import annotations

import pytest
import torch

from vgssl_train.models import AGGREGATORS, BACKBONES, DescriptorModel, ModelSpec
from vgssl_train.models.aggregators import GeM, NetVLAD
from vgssl_train.models.backbones import build_backbone
from vgssl_train.models.backbones.efficientnet_lite import imagenet_weights_path
from vgssl_train.models.data_init import init_aggregator_from_data


@pytest.mark.parametrize("backbone", list(BACKBONES))
@pytest.mark.parametrize("layer", ["conv4", "conv5"])
def test_backbones_shapes(backbone, layer):
    net = build_backbone(backbone, layer, weights=None).eval()
    with torch.no_grad():
        y = net(torch.randn(1, 3, 64, 64))
    stride = 16 if layer == "conv4" else 32
    assert tuple(y.shape) == (1, net.out_channels, 64 // stride, 64 // stride)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="valid backbones: efficientnet_lite0, resnet18, resnet50"):
        build_backbone("vgg16")
    with pytest.raises(ValueError, match="valid aggregations: gem, netvlad"):
        DescriptorModel(ModelSpec(aggregation="mixvpr"), weights=None)
    assert list(AGGREGATORS) == ["gem", "netvlad"]


def test_resnet_weights_absent_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match="Nothing is downloaded.*--weights none"):
        build_backbone("resnet18", "conv5", "imagenet")


def test_efficientnet_imagenet_weights_load_offline():
    net = build_backbone("efficientnet_lite0", "conv5", "imagenet")
    ref = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    assert torch.equal(net._conv_stem.weight, ref["_conv_stem.weight"])
    assert torch.equal(net._bn1.running_var, ref["_bn1.running_var"])
    conv4 = build_backbone("efficientnet_lite0", "conv4", "imagenet")
    assert torch.equal(conv4._blocks[10]._project_conv.weight, ref["_blocks.10._project_conv.weight"])


def test_gem_matches_formula():
    x = torch.rand(2, 5, 3, 4)
    gem = GeM(5, p=3.0)
    want = x.clamp(min=1e-6).pow(3).mean(dim=(2, 3)).pow(1 / 3)
    assert torch.allclose(gem(x), want, atol=1e-6)
    assert gem.p.requires_grad


@pytest.mark.parametrize("aggregation,fc_dim,dim", [("gem", 0, 1280), ("gem", 256, 256), ("netvlad", 0, 64 * 1280)])
def test_descriptor_is_l2_normalised(aggregation, fc_dim, dim):
    model = DescriptorModel(ModelSpec(aggregation=aggregation, fc_dim=fc_dim), weights=None).eval()
    with torch.no_grad():
        d = model(torch.randn(3, 3, 64, 64))
    assert tuple(d.shape) == (3, dim) == (3, model.dim)
    assert torch.allclose(d.norm(dim=1), torch.ones(3), atol=1e-5)


def test_netvlad_centroids_from_data(vpr_dataset):
    from vgssl_train.data import ImageDataset, load_split

    model = DescriptorModel(ModelSpec(layer="conv4", aggregation="netvlad"), weights="imagenet")
    before = model.aggregator.centroids.detach().clone()
    split = load_split(vpr_dataset, "train")
    init_aggregator_from_data(model, ImageDataset(split.database.paths, 64, 128), max_images=12)
    after = model.aggregator.centroids.detach()
    assert not torch.allclose(before, after)
    norms = after.norm(dim=1)  # means of unit local descriptors
    assert bool(((norms > 0.1) & (norms <= 1.0 + 1e-4)).all())
    assert isinstance(model.aggregator, NetVLAD) and model.aggregator.alpha > 1.0


def test_gem_activation_peaks_where_one_location_dominates():
    x = torch.rand(2, 8, 3, 4) * 0.1
    x[0, :, 2, 1] = 1.0  # image 0: every channel strong at (2, 1)
    x[1, 3, 0, 3] = 5.0  # image 1: one channel very strong at (0, 3)
    act = GeM(8).activation(x)
    assert tuple(act.shape) == (2, 3, 4)
    assert divmod(int(act[0].argmax()), 4) == (2, 1) and divmod(int(act[1].argmax()), 4) == (0, 3)
    # The per-location contributions are what the pooling averages: their mean over locations, ^(1/p), is GeM.
    assert torch.allclose(act.mean(dim=(1, 2)), GeM(8)(x).pow(3).mean(1), rtol=1e-5)


def test_netvlad_activation_peaks_at_the_location_far_from_every_centroid():
    vlad = NetVLAD(4, clusters=2)
    with torch.no_grad():
        vlad.centroids.copy_(torch.tensor([[1.0, 0, 0, 0], [0.9, 0.1, 0, 0]]))
    x = torch.zeros(1, 4, 3, 3)
    x[0, 0] = 1.0  # every location on the centroids' direction: residual about 0
    x[0, :, 1, 2] = torch.tensor([0.0, 0.0, 0.0, 1.0])  # but this one: residual about sqrt(2) whatever its cluster
    act = vlad.activation(x).detach()
    assert tuple(act.shape) == (1, 3, 3) and divmod(int(act[0].argmax()), 3) == (1, 2)
    assert float(act[0, 1, 2]) > 10 * float(act[0, 0, 0])


@pytest.mark.parametrize("aggregation", list(AGGREGATORS))
def test_forward_with_activation_gives_the_descriptor_and_maps_scaled_per_image(aggregation):
    model = DescriptorModel(ModelSpec(aggregation=aggregation), weights=None).eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        descriptor, activation = model.forward_with_activation(x)
        assert torch.allclose(descriptor, model(x), atol=1e-6)
    assert tuple(activation.shape) == (2, 2, 3) and activation.dtype == torch.float32
    assert torch.allclose(activation.amax(dim=(1, 2)), torch.ones(2)) and float(activation.min()) >= 0.0
