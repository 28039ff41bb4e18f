"""Checkpoints: written atomically (temp file + rename), read back into a DescriptorModel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vgssl_ros.io import atomic_path
from vgssl_train.models import DescriptorModel, ModelSpec

CHECKPOINT_FORMAT = 1
TRAINING_STATE = ("model", "optimizer", "method_state", "scaler", "rng", "pairs")
"""Checkpoint entries that only resuming needs; left out of the metadata ``load_descriptor_model`` returns."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically: a reader sees the old file or the new one, never half."""
    with atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, **payload}, tmp)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint dict; raise a clear error for a missing, corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise ValueError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); it is truncated or not a vgssl checkpoint"
        ) from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "model_spec" not in ckpt:
        raise ValueError(f"{path} is not a vgssl checkpoint (no 'model' and 'model_spec' entries)")
    if ckpt.get("format", 0) > CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} has checkpoint format {ckpt['format']}, newer than this vgssl ({CHECKPOINT_FORMAT}); upgrade vgssl"
        )
    return ckpt


def load_descriptor_model(path: str | Path) -> tuple[DescriptorModel, dict[str, Any]]:
    """The DescriptorModel stored in a checkpoint (eval mode) and the checkpoint's metadata."""
    ckpt = load_checkpoint(path)
    model = DescriptorModel(ModelSpec(**ckpt["model_spec"]), weights=None)
    model.load_state_dict(ckpt["model"])
    meta = {k: v for k, v in ckpt.items() if k not in TRAINING_STATE}
    return model.eval(), meta
