"""Embedder: model.onnx in ONNX Runtime, uint8 RGB images of any size -> descriptors (and activation maps)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from vgssl_ros.core.errors import ModelError
from vgssl_ros.core.fields import FileFields, shown_path
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
MAX_INPUT_SIDE, MAX_DIM = 8192, 1 << 16
"""Largest model input side (pixels) and descriptor dimension accepted from model metadata."""
MAX_MODEL_BYTES = 1 << 31
"""ONNX protobuf files are limited to 2 GiB."""
PROBE_TOLERANCE = 1e-3
"""Largest |norm - 1| of the descriptor of the load-time probe image."""


def resolve_providers(names: Sequence[str]) -> list[str]:
    """Provider short names -> ORT providers, in order, keeping those this ORT build offers; CPU is always last."""
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown:
        raise ValueError(f"unknown execution provider(s) {unknown}; valid: {', '.join(PROVIDERS)}")
    available = set(ort.get_available_providers())
    chosen = [PROVIDERS[n] for n in names if PROVIDERS[n] in available]
    return list(dict.fromkeys([*chosen, PROVIDERS["cpu"]]))


def provider_fallbacks(asked: Sequence[str], running: Sequence[str]) -> list[str]:
    """One line per provider in ``asked`` (short names) ahead of the first that runs (``running``: the session's
    ORT providers, in use order): not in this ONNX Runtime build, or in it but failing to start."""
    available = set(ort.get_available_providers())
    reasons = []
    for name in asked:
        provider = PROVIDERS[name]
        if provider == running[0]:
            break
        if provider not in available:
            reasons.append(
                f"{provider} is not in this ONNX Runtime build (it has {', '.join(sorted(available))}): "
                f"install the onnxruntime-gpu wheel for cuda/tensorrt; falling back to the next provider"
            )
        else:
            reasons.append(
                f"{provider} is in this ONNX Runtime build but did not start (missing or mismatched CUDA, cuDNN or "
                f"TensorRT libraries: ONNX Runtime's own message above says which); falling back to the next provider"
            )
    return reasons


class Embedder:
    """One ONNX Runtime session on a vgssl model.onnx; ``embed`` takes uint8 RGB [H, W, 3] images.

    ``providers``: short names from PROVIDERS in order of preference; those missing fall back to the
    next (a log line says which runs). ``intra_op_threads``: ORT worker threads, with spinning off so
    that an idle embedder leaves the cores to the rest of the robot.
    """

    def __init__(self, model_path: str | Path, providers: Sequence[str] = ("cpu",), intra_op_threads: int = 1) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"model {shown_path(path)} does not exist; export one with `vgssl-train export`")
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelError(f"model {path} is {size} bytes, more than an ONNX file can be; export it again")
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
        self.fallbacks: list[str] = provider_fallbacks(providers, self.providers)
        """Why each asked-for provider that does not run was passed over (one line each)."""
        for reason in self.fallbacks:
            log.warning("embedder: %s", reason)
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.input_size, self.dim = self._check_contract()
        self._output_shapes = {o.name: list(o.shape) for o in self.session.get_outputs()}
        self.has_activation = "activation" in self._output_shapes
        """Whether the model was exported with `vgssl-train export --activation` (``activations`` works)."""
        self._probe()
        log.info(
            "embedder: %s on %s (asked for %s), %d intra-op thread(s), input %dx%d, dim %d",
            path.name,
            self.providers[0],
            ", ".join(providers),
            intra_op_threads,
            *self.input_size,
            self.dim,
        )

    def _check_contract(self) -> tuple[tuple[int, int], int]:
        """Inputs, outputs and metadata follow the vgssl contract; returns ((height, width), dim)."""
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
        f = FileFields(self.model_path, ModelError, "the model is damaged: export it again with `vgssl-train export`")
        version = self.metadata.get("vgssl.format", "1")
        if f.int_text(version, "metadata vgssl.format", 1, 1 << 20) > SUPPORTED_FORMAT:
            raise ModelError(
                f"{self.model_path} has model format {version}, newer than this vgssl_ros ({SUPPORTED_FORMAT}); "
                f"upgrade vgssl_ros"
            )
        height = f.int_text(self.metadata["vgssl.input_height"], "metadata vgssl.input_height", 1, MAX_INPUT_SIDE)
        width = f.int_text(self.metadata["vgssl.input_width"], "metadata vgssl.input_width", 1, MAX_INPUT_SIDE)
        dim = f.int_text(self.metadata["vgssl.descriptor_dim"], "metadata vgssl.descriptor_dim", 1, MAX_DIM)
        shape = list(inputs[0].shape)
        if len(shape) != 4 or any(isinstance(s, int) and s != e for s, e in zip(shape[1:], (height, width, 3))):
            f.fail("input 'image'", f"has shape {shape}, its metadata says [N, {height}, {width}, 3]")
        out = list(next(o for o in outputs if o.name == "descriptor").shape)
        if len(out) != 2 or (isinstance(out[1], int) and out[1] != dim):
            f.fail("output 'descriptor'", f"has shape {out}, its metadata says [N, {dim}]")
        return (height, width), dim

    def _probe(self) -> None:
        """Embed one grey image: the descriptor must be [1, dim], finite and of norm 1 (a damaged model is not)."""
        try:
            out = self.embed_resized(np.full((1, *self.input_size, 3), 128, np.uint8))
        except Exception as exc:  # ORT raises its own types when the graph cannot run
            raise ModelError(
                f"model {self.model_path} fails on a probe image ({str(exc).strip()[:200]}); "
                f"export it again with `vgssl-train export`"
            ) from None
        norm = float(np.linalg.norm(out.astype(np.float64))) if out.shape == (1, self.dim) else float("nan")
        if not abs(norm - 1.0) <= PROBE_TOLERANCE:
            raise ModelError(
                f"model {self.model_path} gives a descriptor of shape {out.shape} and norm {norm:.4g} for a probe "
                f"image, not an L2-normalised [1, {self.dim}] one; the model is damaged: export it again"
            )

    def embed(self, images: Sequence[np.ndarray] | np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 RGB images [H_i, W_i, 3] (any size; resized with resize_rgb) -> descriptors float32 [N, dim]."""
        return self._batched(["descriptor"], images, batch_size)[0]

    def activations(self, images: Sequence[np.ndarray] | np.ndarray, batch_size: int = 32) -> np.ndarray:
        """uint8 RGB images [H_i, W_i, 3] -> activation maps float32 [N, h, w] (where the descriptor looks, each
        image's maximum 1; overlay with vgssl_ros.datasets.overlay_activation), for a model exported with
        `vgssl-train export --activation`; ModelError for a model without that output."""
        self._require_activation()
        return self._batched(["activation"], images, batch_size)[0]

    def embed_with_activations(
        self, images: Sequence[np.ndarray] | np.ndarray, batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB images [H_i, W_i, 3] -> (descriptors float32 [N, dim], activation maps float32 [N, h, w]), both
        from one run of the model per batch; ModelError for a model exported without `--activation`."""
        self._require_activation()
        descriptors, maps = self._batched(["descriptor", "activation"], images, batch_size)
        return descriptors, maps

    def _require_activation(self) -> None:
        if not self.has_activation:
            raise ModelError(
                f"model {self.model_path} has no 'activation' output; export it with `vgssl-train export --activation`"
            )

    def _batched(
        self, names: list[str], images: Sequence[np.ndarray] | np.ndarray, batch_size: int
    ) -> list[np.ndarray]:
        """The outputs ``names`` for ``images`` resized to the input size, run in batches and concatenated."""
        height, width = self.input_size
        parts = [[self._empty(name)] for name in names]
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            batch = np.stack([resize_rgb(self._check_image(im), height, width) for im in chunk])
            for part, out in zip(parts, self._run(names, batch)):
                part.append(out)
        return [np.concatenate(part) for part in parts]

    def _empty(self, name: str) -> np.ndarray:
        """Output ``name`` for no images: float32 [0, ...] (a dimension the model leaves open counts as 0)."""
        if name == "descriptor":
            return np.zeros((0, self.dim), np.float32)
        return np.zeros((0, *(s if isinstance(s, int) else 0 for s in self._output_shapes[name][1:])), np.float32)

    def _run(self, names: list[str], batch: np.ndarray) -> list[np.ndarray]:
        """One session run on a batch already at the input size, uint8 [N, H, W, 3] -> the outputs ``names``."""
        outs = self.session.run(names, {"image": np.ascontiguousarray(batch, dtype=np.uint8)})
        return [np.asarray(out).astype(np.float32, copy=False) for out in outs]

    def embed_resized(self, batch: np.ndarray) -> np.ndarray:
        """A batch already at the input size, uint8 [N, H, W, 3] -> descriptors float32 [N, dim]."""
        return self._run(["descriptor"], batch)[0]

    @staticmethod
    def _check_image(image: np.ndarray) -> np.ndarray:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"Embedder.embed takes uint8 RGB [H, W, 3] images, got {image.dtype} {image.shape}")
        return image
