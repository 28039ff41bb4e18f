"""Reading one image file as RGB, with an error that names the file."""

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
