"""Checkpoints: tensors and plain values only, written atomically, read back with ``weights_only=True``.

A checkpoint never holds a pickled Python object, so loading one (a file someone sent you included) cannot
run code: every load refuses anything but tensors, numbers, strings, None, bools, lists, tuples and dicts.
"""

from __future__ import annotations

import pickle
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from vgssl_ros.io import atomic_path
from vgssl_train.models import DescriptorModel, ModelSpec

CHECKPOINT_FORMAT = 2
"""1: RNG state held a pickled numpy tuple (unsafe to load); 2: tensors and plain values only."""
TRAINING_STATE = ("model", "optimizer", "method_state", "scaler", "rng", "pairs", "log_bytes")
"""Checkpoint entries that only resuming needs; left out of the metadata ``load_descriptor_model`` returns."""
_PLAIN = (str, int, float, bool, type(None))  # exact types: numpy.float64 subclasses float but pickles as numpy
_CONTAINERS = (dict, OrderedDict, list, tuple)


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, from a newer vgssl, or holds objects a safe load refuses."""


def check_plain(value: Any, where: str = "checkpoint") -> None:
    """Raise TypeError naming the entry if ``value`` holds anything but tensors, plain values and containers."""
    if isinstance(value, torch.Tensor) or type(value) in _PLAIN:
        return
    if type(value) not in _CONTAINERS:
        raise TypeError(f"{where} is a {type(value).__module__}.{type(value).__name__}; store tensors or plain values")
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) not in (str, int):
                raise TypeError(f"{where}: key {key!r} is a {type(key).__name__}, not str or int")
            check_plain(item, f"{where}[{key!r}]")
    else:
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tensors and plain values, checked) to ``path`` atomically: readers see old or new."""
    payload = {"format": CHECKPOINT_FORMAT, **payload}
    check_plain(payload)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint dict with ``weights_only=True``; a missing, unsafe, corrupt or foreign file raises."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        unsafe = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if unsafe:
            raise CheckpointError(
                f"checkpoint {path} holds a Python object ({unsafe.group(1)}) that would run code when loaded, "
                f"so it is refused; vgssl checkpoints hold only tensors and plain values (format "
                f"{CHECKPOINT_FORMAT}): use one written by this vgssl-train, or train again"
            ) from None
        raise CheckpointError(
            f"checkpoint {path} is not a vgssl checkpoint: its pickle holds something other than tensors and plain "
            "values, so a safe load refuses it; use the file training wrote (last.pt or best.pt)"
        ) from None
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise CheckpointError(_unreadable(path, exc)) from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "model_spec" not in ckpt:
        raise CheckpointError(f"{path} is not a vgssl checkpoint (no 'model' and 'model_spec' entries)")
    if not isinstance(ckpt.get("format", 0), int) or ckpt.get("format", 0) > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} has checkpoint format {ckpt['format']!r}, newer than this vgssl ({CHECKPOINT_FORMAT}); "
            "upgrade vgssl"
        )
    return ckpt


def _unreadable(path: Path, exc: Exception) -> str:
    reason = str(exc).strip().splitlines()[0].split(". ")[0][:200] if str(exc).strip() else ""
    return (
        f"checkpoint {path} cannot be read ({type(exc).__name__}: {reason}); it is truncated or not a vgssl "
        "checkpoint: use the file training wrote (last.pt or best.pt)"
    )


def load_descriptor_model(path: str | Path) -> tuple[DescriptorModel, dict[str, Any]]:
    """The DescriptorModel stored in a checkpoint (eval mode) and the checkpoint's metadata."""
    ckpt = load_checkpoint(path)
    try:
        model = DescriptorModel(ModelSpec(**ckpt["model_spec"]), weights=None)
        model.load_state_dict(ckpt["model"])
    except (TypeError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: its model does not match its model spec ({first})") from None
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(
            f"{path}: {len(bad)} weight tensors hold NaN or inf (first {bad[0]!r}); the training diverged or the "
            "file is damaged: use an earlier checkpoint"
        )
    meta = {k: v for k, v in ckpt.items() if k not in TRAINING_STATE}
    return model.eval(), meta


RESUMED_STATE = ("model", "method_state", "optimizer", "scaler", "rng", "pairs", "step", "epoch", "batch_in_epoch")
"""What a resumed run must reproduce bit-exactly: weights, heads, optimizer moments, RNG states, pairs, counters."""


def checkpoint_differences(a: dict[str, Any], b: dict[str, Any], keys: tuple[str, ...] = RESUMED_STATE) -> list[str]:
    """The entries under ``keys`` where two checkpoints differ (tensors compared bit-exactly); [] when identical."""
    flat_a = {k: v for key in keys for k, v in _flatten(a.get(key), key).items()}
    flat_b = {k: v for key in keys for k, v in _flatten(b.get(key), key).items()}
    names = sorted(flat_a.keys() | flat_b.keys())
    return [n for n in names if n not in flat_a or n not in flat_b or not _same(flat_a[n], flat_b[n])]


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flatten(item, f"{prefix}[{key!r}]").items()}
    if isinstance(value, (list, tuple)):
        return {k: v for i, item in enumerate(value) for k, v in _flatten(item, f"{prefix}[{i}]").items()}
    return {prefix: value}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    return type(a) is type(b) and a == b
