"""Export a DescriptorModel to ONNX (optionally with activation maps), check parity with PyTorch, write atomically."""

from __future__ import annotations

import copy
import hashlib
import io
import logging
from collections.abc import Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

from vgssl_ros.datasets import load_rgb, resize_rgb
from vgssl_ros.io import atomic_path
from vgssl_train.evaluation import activation_paths, embed_paths, search
from vgssl_train.export.metadata import onnx_metadata
from vgssl_train.export.quantize import quantize_int8
from vgssl_train.export.wrapper import RgbUint8Model
from vgssl_train.models import DescriptorModel

log = logging.getLogger(__name__)

MIN_COSINE = 0.9999
MIN_PARITY_IMAGES = 4
MIN_INT8_COSINE = 0.98
"""Default floor on the median cosine of int8 to fp32 descriptors on the parity images."""
INT8_METHODS = ("minmax", "percentile")
"""Calibration methods tried by default for --int8; the one whose descriptors are closest to fp32 is kept."""


class ParityError(ValueError):
    """The exported graph does not reproduce the PyTorch model; nothing was written."""


def export_onnx(
    model: DescriptorModel,
    meta: dict[str, Any],
    height: int,
    width: int,
    out: str | Path,
    parity_paths: Sequence[str],
    fp16: bool = False,
    min_cosine: float = MIN_COSINE,
    activation: bool = False,
    calibration_paths: Sequence[str] = (),
    calibration_methods: Sequence[str] = INT8_METHODS,
    int8_min_cosine: float = MIN_INT8_COSINE,
) -> dict[str, Any]:
    """Export ``model`` for uint8 RGB [N, height, width, 3]; write ``out`` only if parity holds.

    ``parity_paths``: real images (>= 4) embedded by PyTorch and by ONNX Runtime; every cosine must be
    >= ``min_cosine`` and top-1 retrieval (second half against first half) identical.
    ``activation``: a second output 'activation' float32 [N, h, w] (after 'descriptor', which stays output 0),
    whose per-image cosine against PyTorch must also be >= ``min_cosine``.
    ``calibration_paths``: real images that make the model int8 (quantize_int8, after the fp32 graph passed parity)
    with each of ``calibration_methods``; the one with the highest median cosine to fp32 on ``parity_paths`` is
    kept, and refused (nothing written) if that median is below ``int8_min_cosine``.
    Returns a report: path, sha256, dim, min_cosine, top1_agreement, metadata (and activation_min_cosine; with
    int8 also 'int8': compare_descriptors' figures and the calibration method).
    """
    if calibration_paths and fp16:
        raise ValueError("int8 and fp16 exclude each other: export one precision at a time")
    if len(parity_paths) < MIN_PARITY_IMAGES:
        raise ValueError(f"parity needs at least {MIN_PARITY_IMAGES} real images, got {len(parity_paths)}")
    model = model.eval()
    net = copy.deepcopy(model).half() if fp16 else model
    wrapper = RgbUint8Model(net, activation).eval()
    metadata = onnx_metadata(
        meta["model_spec"],
        model.dim,
        height,
        width,
        meta.get("method", "none"),
        meta.get("run_id", ""),
        "int8" if calibration_paths else "fp16" if fp16 else "fp32",
    )
    proto = _export_proto(wrapper, height, width, activation)
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=value)
    blob = proto.SerializeToString()
    report = check_parity(model, blob, parity_paths, height, width)
    if report["min_cosine"] < min_cosine or report["top1_agreement"] < 1.0:
        raise ParityError(
            f"ONNX parity failed: min cosine {report['min_cosine']:.6f} (need >= {min_cosine}), top-1 agreement "
            f"{100 * report['top1_agreement']:.1f}% (need 100%) on {report['images']} images; {out} not written"
        )
    if activation:
        report["activation_min_cosine"] = check_activation_parity(model, blob, parity_paths, height, width)
        if report["activation_min_cosine"] < min_cosine:
            raise ParityError(
                f"ONNX parity failed: activation maps min cosine {report['activation_min_cosine']:.6f} "
                f"(need >= {min_cosine}) on {report['images']} images; {out} not written"
            )
    if calibration_paths:
        blob, report["int8"] = _best_int8(blob, calibration_paths, calibration_methods, parity_paths, height, width)
        if report["int8"]["median_cosine"] < int8_min_cosine:
            raise ParityError(
                f"int8 model too far from fp32: median cosine {report['int8']['median_cosine']:.4f} "
                f"(need >= {int8_min_cosine}; 1st percentile {report['int8']['p1_cosine']:.4f}) on "
                f"{report['images']} images; {out} not written (use more or more typical --calibration-images, "
                f"or export fp32)"
            )
    with atomic_path(out) as tmp:
        tmp.write_bytes(blob)
    return {
        "path": str(out),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "dim": model.dim,
        "metadata": metadata,
        **report,
    }


def _export_proto(wrapper: RgbUint8Model, height: int, width: int, activation: bool) -> onnx.ModelProto:
    """Trace ``wrapper`` with the dynamo exporter: dynamic batch, fixed height and width."""
    example = torch.zeros(2, height, width, 3, dtype=torch.uint8)
    with redirect_stdout(io.StringIO()), torch.no_grad():
        program = torch.onnx.export(
            wrapper,
            (example,),
            input_names=["image"],
            output_names=["descriptor", "activation"] if activation else ["descriptor"],
            dynamo=True,
            dynamic_shapes={"image": {0: torch.export.Dim("batch")}},
            verbose=False,
            external_data=False,
        )
    return program.model_proto


def _onnx_output(onnx_bytes: bytes, name: str, paths: Sequence[str], height: int, width: int) -> np.ndarray:
    """Output ``name`` float32 of the ONNX model on the images at ``paths`` (resized as the runtime does)."""
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    batch = np.stack([resize_rgb(load_rgb(p), height, width) for p in paths])
    return session.run([name], {"image": batch})[0].astype(np.float32)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row cosine [N] of two arrays [N, ...] (flattened per row)."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)


def check_activation_parity(
    model: DescriptorModel, onnx_bytes: bytes, paths: Sequence[str], height: int, width: int
) -> float:
    """Smallest per-image cosine of the ONNX 'activation' output [N, h, w] against PyTorch's."""
    reference = activation_paths(model, paths, height, width)
    exported = _onnx_output(onnx_bytes, "activation", paths, height, width)
    if exported.shape != reference.shape:
        raise ParityError(f"ONNX activation maps have shape {exported.shape}, PyTorch's {reference.shape}")
    return float(_cosines(reference, exported).min())


def _best_int8(
    fp32: bytes,
    calibration_paths: Sequence[str],
    methods: Sequence[str],
    parity_paths: Sequence[str],
    height: int,
    width: int,
) -> tuple[bytes, dict[str, Any]]:
    """The int8 graph (serialized) of the calibration method closest to ``fp32``, with compare_descriptors' figures."""
    if not methods:
        raise ValueError("no calibration method to try")
    calibration = np.stack([resize_rgb(load_rgb(p), height, width) for p in calibration_paths])
    proto = onnx.load_from_string(fp32)
    best: tuple[bytes, dict[str, Any]] | None = None
    for method in methods:
        blob = quantize_int8(proto, calibration, method).SerializeToString()
        figures = {**compare_descriptors(fp32, blob, parity_paths, height, width), "method": method}
        log.info("int8 with %s calibration: median cosine %.4f", method, figures["median_cosine"])
        if best is None or figures["median_cosine"] > best[1]["median_cosine"]:
            best = blob, figures
    assert best is not None
    best[1]["calibration_images"] = len(calibration_paths)
    return best


def compare_descriptors(fp32: bytes, other: bytes, paths: Sequence[str], height: int, width: int) -> dict[str, float]:
    """Descriptor cosine of the ``other`` graph (int8, fp16) to the ``fp32`` one on ``paths`` (median, 1st
    percentile, minimum) and top-1 retrieval agreement (second half of the images against the first half)."""
    reference = _onnx_output(fp32, "descriptor", paths, height, width)
    quantized = _onnx_output(other, "descriptor", paths, height, width)
    cosine = _cosines(reference, quantized)
    half = len(paths) // 2
    _, top_ref = search(reference[half:], reference[:half], 1)
    _, top_other = search(quantized[half:], quantized[:half], 1)
    return {
        "median_cosine": float(np.median(cosine)),
        "p1_cosine": float(np.percentile(cosine, 1)),
        "min_cosine": float(cosine.min()),
        "top1_agreement": float(np.mean(top_ref[:, 0] == top_other[:, 0])),
        "max_norm_error": float(np.abs(np.linalg.norm(quantized, axis=1) - 1.0).max()),
    }


def check_parity(
    model: DescriptorModel, onnx_bytes: bytes, paths: Sequence[str], height: int, width: int
) -> dict[str, Any]:
    """Cosine of ONNX Runtime vs PyTorch descriptors per image, and top-1 agreement of the two."""
    reference = embed_paths(model, paths, height, width, batch_size=16, progress=False)
    exported = _onnx_output(onnx_bytes, "descriptor", paths, height, width)
    cosine = _cosines(reference, exported)
    half = len(paths) // 2
    _, top_ref = search(reference[half:], reference[:half], 1)
    _, top_onnx = search(exported[half:], exported[:half], 1)
    norms = np.linalg.norm(exported, axis=1)
    return {
        "images": len(paths),
        "min_cosine": float(cosine.min()),
        "top1_agreement": float(np.mean(top_ref[:, 0] == top_onnx[:, 0])),
        "max_norm_error": float(np.abs(norms - 1.0).max()),
    }
