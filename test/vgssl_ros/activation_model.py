"""A vgssl model.onnx built without torch whose activation map is known: where the image is redder than green."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HEIGHT, WIDTH, DIM = 8, 16, 3


def red_model(path: Path, activation: bool = True) -> Path:
    """uint8 [N, 8, 16, 3] -> 'descriptor' [N, 3] (the L2-normalised mean colour plus 1) and, with ``activation``,
    'activation' [N, 8, 16]: max(R - G, 0) divided by its image's maximum (0 where no pixel is redder)."""
    nodes = [
        helper.make_node("Cast", ["image"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1, 2], keepdims=0),
        helper.make_node("Add", ["mean", "one"], ["shifted"]),
        helper.make_node("LpNormalization", ["shifted"], ["descriptor"], axis=1, p=2),
    ]
    outputs = [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", DIM])]
    if activation:
        nodes += [
            helper.make_node("Slice", ["x", "r0", "r1", "axis3"], ["red"]),
            helper.make_node("Slice", ["x", "r1", "g1", "axis3"], ["green"]),
            helper.make_node("Sub", ["red", "green"], ["diff"]),
            helper.make_node("Relu", ["diff"], ["excess"]),
            helper.make_node("Squeeze", ["excess", "axis3"], ["heat"]),
            helper.make_node("ReduceMax", ["heat"], ["peak"], axes=[1, 2], keepdims=1),
            helper.make_node("Add", ["peak", "tiny"], ["scale"]),
            helper.make_node("Div", ["heat", "scale"], ["activation"]),
        ]
        outputs.append(helper.make_tensor_value_info("activation", TensorProto.FLOAT, ["N", HEIGHT, WIDTH]))
    constants = {
        "one": np.float32(1.0),
        "tiny": np.float32(1e-6),
        "r0": np.array([0], np.int64),
        "r1": np.array([1], np.int64),
        "g1": np.array([2], np.int64),
        "axis3": np.array([3], np.int64),
    }
    graph = helper.make_graph(
        nodes,
        "red",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["N", HEIGHT, WIDTH, 3])],
        outputs,
        [numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    metadata = {
        "vgssl.format": "1",
        "vgssl.input_height": str(HEIGHT),
        "vgssl.input_width": str(WIDTH),
        "vgssl.descriptor_dim": str(DIM),
        "vgssl.backbone": "red",
    }
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def half_red(height: int, width: int, red_left: bool = True) -> np.ndarray:
    """A grey uint8 RGB [height, width, 3] image whose left (or right) half is a little redder than green."""
    rgb = np.full((height, width, 3), 120, np.uint8)
    half = slice(0, width // 2) if red_left else slice(width // 2, width)
    rgb[:, half, 0] = 150
    return rgb
