"""ONNX export of descriptor models: uint8 RGB in, L2-normalised descriptors out, parity-checked."""

from vgssl_train.export.metadata import onnx_metadata
from vgssl_train.export.onnx_export import ParityError, export_onnx
from vgssl_train.export.wrapper import RgbUint8Model

__all__ = ["ParityError", "RgbUint8Model", "export_onnx", "onnx_metadata"]
