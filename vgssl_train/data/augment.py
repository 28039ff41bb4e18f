"""Augmented views of negatives: random resized crop, scale (0.75, 1), and horizontal flip."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

CROP_SCALE = (0.75, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


def augment_view(x: torch.Tensor, generator: torch.Generator, scale: tuple[float, float] = CROP_SCALE) -> torch.Tensor:
    """[3, H, W] -> [3, H, W]: a random crop of ``scale`` of the area, resized back, flipped half the time."""
    _, h, w = x.shape
    u = torch.rand(4, generator=generator).tolist()
    area = h * w * (scale[0] + (scale[1] - scale[0]) * u[0])
    log_lo, log_hi = math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])
    ratio = math.exp(log_lo + (log_hi - log_lo) * u[1])
    ch = min(h, max(1, round(math.sqrt(area / ratio))))
    cw = min(w, max(1, round(math.sqrt(area * ratio))))
    top, left = int(u[2] * (h - ch + 1)), int(u[3] * (w - cw + 1))
    crop = x[:, top : top + ch, left : left + cw].unsqueeze(0)
    out = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False).squeeze(0)
    if torch.rand(1, generator=generator).item() < 0.5:
        out = out.flip(-1)
    return out
