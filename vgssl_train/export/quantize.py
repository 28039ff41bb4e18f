"""INT8 static quantization of an exported fp32 graph: QDQ, per-channel int8 weights, uint8 activations.

Only the backbone after its first convolution is quantized. The uint8 -> float normalisation and the first Conv
stay float (measured on Nordland at 64x128: median cosine to fp32 0.981 with the first Conv quantized, 0.992
without; it costs about 2 of 13 ms at 240x320), and so does the pooling after the last Conv (GeM clamp/pow,
average, L2 normalisation), so the descriptor keeps its norm.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)

CALIBRATION_METHODS: dict[str, CalibrationMethod] = {
    "minmax": CalibrationMethod.MinMax,
    "percentile": CalibrationMethod.Percentile,
    "entropy": CalibrationMethod.Entropy,
}
"""Names (CLI choices) -> ONNX Runtime calibration methods for the activation ranges."""
CALIBRATION_BATCH = 4
"""Images per calibration batch fed to ONNX Runtime."""


class ImageBatches(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime ships no type hints
    """Feeds uint8 RGB batches [B, H, W, 3] of ``images`` [N, H, W, 3] as the model's input 'image'.

    ``set_range`` (in batches) lets the calibrator take one batch at a time (CalibStridedMinMax): ranges and
    histograms are merged batch by batch instead of holding every activation of every image (GBs at 480x640).
    """

    def __init__(self, images: np.ndarray, batch_size: int = CALIBRATION_BATCH) -> None:
        self._images = images
        self._batch_size = batch_size
        self.set_range(0, len(self))

    def __len__(self) -> int:
        return -(-len(self._images) // self._batch_size)

    def set_range(self, start_index: int, end_index: int) -> None:
        """Feed batches ``start_index`` to ``end_index`` (exclusive) next."""
        self._next, self._end = start_index, min(end_index, len(self))

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next batch, or None when the range was fed."""
        if self._next >= self._end:
            return None
        start = self._next * self._batch_size
        self._next += 1
        return {"image": np.ascontiguousarray(self._images[start : start + self._batch_size], dtype=np.uint8)}


def float_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes kept float: those up to the first Conv (uint8 -> normalised float, the first Conv) and
    after the last Conv (its clamp, aggregation, L2 normalisation). Graphs are in topological order (ONNX says so)."""
    nodes = list(model.graph.node)
    convs = [i for i, n in enumerate(nodes) if n.op_type == "Conv"]
    if not convs:
        raise ValueError("the model has no Conv layer to quantize; --int8 needs a convolutional backbone")
    for i, n in enumerate(nodes):
        if not n.name:
            n.name = f"vgssl_node_{i}"  # nodes_to_exclude names nodes; the exporter names them all, others may not
    return [n.name for n in nodes[: convs[0] + 1] + nodes[convs[-1] + 1 :]]


def quantize_int8(fp32: onnx.ModelProto, calibration: np.ndarray, method: str) -> onnx.ModelProto:
    """QDQ int8 graph of ``fp32`` whose activation ranges come from ``calibration`` uint8 [N, H, W, 3] images.

    ``method``: a CALIBRATION_METHODS key. Metadata props are carried over unchanged.
    """
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown calibration method {method!r}; valid: {', '.join(CALIBRATION_METHODS)}")
    model = onnx.ModelProto()
    model.CopyFrom(fp32)
    excluded = float_nodes(model)
    with tempfile.TemporaryDirectory(prefix="vgssl_int8_") as tmp:
        out = Path(tmp) / "int8.onnx"
        quiet = logging.getLogger()  # the quantizer logs its advice and histogram steps on the root logger
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with redirect_stdout(StringIO()):
                quantize_static(
                    model,
                    out,
                    ImageBatches(calibration),
                    quant_format=QuantFormat.QDQ,
                    per_channel=True,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    nodes_to_exclude=excluded,
                    calibrate_method=CALIBRATION_METHODS[method],
                    calibration_providers=["CPUExecutionProvider"],
                    extra_options={"CalibStridedMinMax": 1},  # one batch at a time (see ImageBatches)
                )
        finally:
            quiet.setLevel(level)
        quantized = onnx.load(str(out))
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(fp32.metadata_props)
    return quantized
