"""Embedder: model.onnx in ONNX Runtime, uint8 RGB images of any size -> L2-normalised descriptors."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from vgssl_ros.core.errors import ModelError
from vgssl_ros.datasets import resize_rgb

log = logging.getLogger(__name__)

PROVIDERS: dict[str, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
"""Short names (parameters, CLI choices) -> ONNX Runtime execution providers."""
REQUIRED_METADATA = ("vgssl.input_height", "vgssl.input_width", "vgssl.descriptor_dim")
SUPPORTED_FORMAT = 1


def resolve_providers(names: Sequence[str]) -> list[str]:
    """Provider short names -> ORT providers, in order, keeping those this ORT build offers; CPU is always last."""
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown:
        raise ValueError(f"unknown execution provider(s) {unknown}; valid: {', '.join(PROVIDERS)}")
    available = set(ort.get_available_providers())
    chosen = [PROVIDERS[n] for n in names if PROVIDERS[n] in available]
    return list(dict.fromkeys([*chosen, PROVIDERS["cpu"]]))


class Embedder:
    """One ONNX Runtime session on a vgssl model.onnx; ``embed`` takes uint8 RGB [H, W, 3] images.

    ``providers``: short names from PROVIDERS in order of preference; those missing fall back to the
    next (a log line says which runs). ``intra_op_threads``: ORT worker threads, with spinning off so
    that an idle embedder leaves the cores to the rest of the robot.
    """

    def __init__(self, model_path: str | Path, providers: Sequence[str] = ("cpu",), intra_op_threads: int = 1) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"model {path} does not exist; export one with `vgssl-train export`")
        blob = path.read_bytes()
        self.model_path = path
        self.model_sha256 = hashlib.sha256(blob).hexdigest()
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(intra_op_threads)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        wanted = resolve_providers(providers)
        try:
            self.session = ort.InferenceSession(blob, sess_options=options, providers=wanted)
        except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf types for a bad file
            raise ModelError(
                f"model {path} cannot be loaded by ONNX Runtime ({exc}); the file is truncated or "
                f"not an ONNX model: export it again with `vgssl-train export`"
            ) from None
        self.providers: list[str] = self.session.get_providers()
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self._check_contract()
        self.input_size: tuple[int, int] = (
            int(self.metadata["vgssl.input_height"]),
            int(self.metadata["vgssl.input_width"]),
        )
        self.dim: int = int(self.metadata["vgssl.descriptor_dim"])
        log.info(
            "embedder: %s on %s (asked for %s), %d intra-op thread(s), input %dx%d, dim %d",
            path.name,
            self.providers[0],
            ", ".join(providers),
            intra_op_threads,
            *self.input_size,
            self.dim,
        )

    def _check_contract(self) -> None:
        missing = [k for k in REQUIRED_METADATA if k not in self.metadata]
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if missing or [i.name for i in inputs] != ["image"] or "descriptor" not in [o.name for o in outputs]:
            raise ModelError(
                f"{self.model_path} is not a vgssl descriptor model (input 'image', output 'descriptor', "
                f"metadata {', '.join(REQUIRED_METADATA)}); export it with `vgssl-train export`"
            )
        if inputs[0].type != "tensor(uint8)":
            raise ModelError(
                f"{self.model_path}: input 'image' is {inputs[0].type}, the contract is uint8 RGB [N,H,W,3]"
            )
        if int(self.metadata.get("vgssl.format", "1")) > SUPPORTED_FORMAT:
            raise ModelError(
                f"{self.model_path} has model format {self.metadata['vgssl.format']}, newer than this "
                f"vgssl_ros ({SUPPORTED_FORMAT}); upgrade vgssl_ros"
            )

    def embed(self, images: Sequence[np.ndarray] | np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 RGB images [H_i, W_i, 3] (any size; resized with resize_rgb) -> descriptors float32 [N, dim]."""
        height, width = self.input_size
        out = [np.zeros((0, self.dim), np.float32)]
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            batch = np.stack([resize_rgb(self._check_image(im), height, width) for im in chunk])
            out.append(self.embed_resized(batch))
        return np.concatenate(out)

    def embed_resized(self, batch: np.ndarray) -> np.ndarray:
        """A batch already at the input size, uint8 [N, H, W, 3] -> descriptors float32 [N, dim]."""
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        return self.session.run(["descriptor"], {"image": batch})[0].astype(np.float32, copy=False)

    @staticmethod
    def _check_image(image: np.ndarray) -> np.ndarray:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"Embedder.embed takes uint8 RGB [H, W, 3] images, got {image.dtype} {image.shape}")
        return image
