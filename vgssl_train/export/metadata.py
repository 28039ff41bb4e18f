"""The metadata_props every exported model carries; the runtime Embedder reads them back."""

from __future__ import annotations

from typing import Any

ONNX_FORMAT = 1
"""Version of the model contract (input `image` uint8 NHWC RGB, output `descriptor` float32 [N, D])."""


def onnx_metadata(
    spec: dict[str, Any], dim: int, height: int, width: int, method: str, run_id: str, precision: str
) -> dict[str, str]:
    """String key/values for ONNX metadata_props: input size, dim, model spec, method, run id."""
    return {
        "vgssl.format": str(ONNX_FORMAT),
        "vgssl.input_height": str(height),
        "vgssl.input_width": str(width),
        "vgssl.descriptor_dim": str(dim),
        "vgssl.backbone": str(spec["backbone"]),
        "vgssl.layer": str(spec["layer"]),
        "vgssl.aggregation": str(spec["aggregation"]),
        "vgssl.fc_dim": str(spec["fc_dim"]),
        "vgssl.method": str(method or "none"),
        "vgssl.run_id": str(run_id or ""),
        "vgssl.precision": precision,
        "vgssl.metric": "inner_product",
    }
