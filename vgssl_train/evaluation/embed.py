"""Embedding image files with a DescriptorModel, batched, with a progress bar; activation maps the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from vgssl_ros.io.progress import Progress
from vgssl_train.data import ImageDataset


@torch.inference_mode()
def _run_batches(
    model: nn.Module,
    output: Callable[[torch.Tensor], torch.Tensor],
    paths: Sequence[str],
    height: int,
    width: int,
    batch_size: int,
    workers: int,
    device: str,
    desc: str,
    progress: bool,
) -> np.ndarray:
    """``output`` of batches of the images at ``paths`` (resized to height x width, model in eval mode), float32."""
    loader = DataLoader(ImageDataset(paths, height, width), batch_size=batch_size, num_workers=workers)
    was_training = model.training
    model.eval()
    out = []
    for x, _ in Progress(desc, "batches", len(loader), quiet=not progress).wrap(loader):
        out.append(output(x.to(device, non_blocking=True)).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float32)


def embed_paths(
    model: nn.Module,
    paths: Sequence[str],
    height: int,
    width: int,
    batch_size: int = 64,
    workers: int = 0,
    device: str = "cpu",
    desc: str = "embedding",
    progress: bool = True,
) -> np.ndarray:
    """Descriptors float32 [N, D] of the images at ``paths`` (resized to height x width)."""
    return _run_batches(model, model, paths, height, width, batch_size, workers, device, desc, progress)


def activation_paths(
    model: nn.Module, paths: Sequence[str], height: int, width: int, batch_size: int = 16, device: str = "cpu"
) -> np.ndarray:
    """Activation maps float32 [N, h, w] (DescriptorModel.forward_with_activation) of the images at ``paths``."""

    def activation(x: torch.Tensor) -> torch.Tensor:
        return model.forward_with_activation(x)[1]

    return _run_batches(model, activation, paths, height, width, batch_size, 0, device, "activation", False)
