"""Reading one image file as RGB (with an error that names the file), resizing it, overlaying an activation map."""

from __future__ import annotations

import cv2
import numpy as np

from vgssl_ros.datasets.errors import DatasetError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def load_rgb(path: str) -> np.ndarray:
    """Decode ``path`` to uint8 RGB [H, W, 3]; raise DatasetError if it cannot be decoded."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DatasetError(
            f"cannot decode image {path}: the file is missing, truncated or not an image "
            f"(expected one of {', '.join(IMAGE_EXTENSIONS)})"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def resize_rgb(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize uint8 [H0, W0, C] to [height, width, C]: area when shrinking, linear when enlarging.

    The trainer, the map builder and the node all resize through this function, so a model sees
    the same pixels in training, in the map and on the robot.
    """
    if rgb.shape[:2] == (height, width):
        return rgb
    interp = cv2.INTER_AREA if rgb.shape[0] > height or rgb.shape[1] > width else cv2.INTER_LINEAR
    return cv2.resize(rgb, (width, height), interpolation=interp)


def overlay_activation(rgb: np.ndarray, activation: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """uint8 RGB [H, W, 3] blended with ``activation`` [h, w] (0..1, e.g. Embedder.activations) upsampled
    bilinearly to H x W and coloured with the JET map (blue 0, red 1); ``alpha`` is the heat map's weight."""
    if activation.ndim != 2:
        raise ValueError(f"an activation map is [h, w], got shape {activation.shape}")
    heat = cv2.resize(activation.astype(np.float32), (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap(np.clip(heat * 255.0, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(rgb, 1.0 - alpha, cv2.cvtColor(colour, cv2.COLOR_BGR2RGB), alpha, 0.0)
