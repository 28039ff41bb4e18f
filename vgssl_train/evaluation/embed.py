"""Embedding image files with a DescriptorModel, batched, with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from vgssl_ros.io.progress import Progress
from vgssl_train.data import ImageDataset


@torch.inference_mode()
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
    loader = DataLoader(ImageDataset(paths, height, width), batch_size=batch_size, num_workers=workers)
    was_training = model.training
    model.eval()
    out = []
    for x, _ in Progress(desc, "batches", len(loader), quiet=not progress).wrap(loader):
        out.append(model(x.to(device, non_blocking=True)).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float32)
