"""Training precision: the names `--precision` takes, and what each means for autocast and loss scaling."""

from __future__ import annotations

import torch

PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
"""Precision name -> autocast dtype (None: no autocast, everything in float32)."""
AUTO = "auto"
"""Mixed precision on CUDA (bf16 where the card has it, else fp16), fp32 elsewhere."""


def resolve_precision(name: str, device: str) -> str:
    """``name`` (a PRECISIONS key or 'auto') for torch ``device`` -> the concrete precision the run uses."""
    kind = torch.device(device).type
    if name == AUTO:
        if kind != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp16"
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; valid: {AUTO}, {', '.join(PRECISIONS)}")
    if name == "fp16" and kind != "cuda":
        raise ValueError(f"--precision fp16 needs a CUDA device (got {device}); use bf16 or fp32 on {kind}")
    return name


def needs_loss_scaling(precision: str) -> bool:
    """Whether gradients must be scaled (fp16's narrow exponent underflows small gradients; bf16's does not)."""
    return precision == "fp16"


def from_saved(config: dict) -> str:
    """The precision of a run saved before `--precision` existed (its ``amp`` flag), or the saved one."""
    if "precision" in config:
        return str(config["precision"])
    if not config.get("amp"):
        return "fp32"
    return "fp16" if torch.device(config.get("device", "cpu")).type == "cuda" else "bf16"
