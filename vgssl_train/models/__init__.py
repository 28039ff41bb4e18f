"""Descriptor models: backbones, aggregators and the L2-normalised descriptor head."""

from vgssl_train.models.aggregators import AGGREGATORS
from vgssl_train.models.backbones import BACKBONES, LAYERS
from vgssl_train.models.descriptor import DescriptorModel, ModelSpec

__all__ = ["AGGREGATORS", "BACKBONES", "LAYERS", "DescriptorModel", "ModelSpec"]
