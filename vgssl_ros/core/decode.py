"""sensor_msgs/Image and CompressedImage fields -> uint8 RGB [H, W, 3], without rclpy or cv_bridge.

Both the node and the bag reader call these with plain fields, so one decoder serves live and recorded data.
Layout, row padding (``step``) and byte order are handled in numpy; YUV 4:2:2 colour conversion and
JPEG/PNG decoding go through OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from vgssl_ros.core.errors import DecodeError


def _rgb(px: np.ndarray, big_endian: bool) -> np.ndarray:
    """rgb8 / rgba8: the first three channels."""
    return px[:, :, :3]


def _bgr(px: np.ndarray, big_endian: bool) -> np.ndarray:
    """bgr8 / bgra8: the first three channels, reversed."""
    return px[:, :, 2::-1]


def _mono8(px: np.ndarray, big_endian: bool) -> np.ndarray:
    return np.repeat(px, 3, axis=2)


def _mono16(px: np.ndarray, big_endian: bool) -> np.ndarray:
    """16-bit grey -> 8-bit by keeping the high byte (full range maps to full range)."""
    values = px.reshape(px.shape[0], -1).view(">u2" if big_endian else "<u2")
    return np.repeat((values >> 8).astype(np.uint8)[:, :, None], 3, axis=2)


def _uyvy(px: np.ndarray, big_endian: bool) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(px), cv2.COLOR_YUV2RGB_UYVY)


def _yuyv(px: np.ndarray, big_endian: bool) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(px), cv2.COLOR_YUV2RGB_YUY2)


# encoding -> (bytes per pixel, [H, W, bytes] uint8 -> RGB [H, W, 3]).
ENCODINGS: dict[str, tuple[int, Callable[[np.ndarray, bool], np.ndarray]]] = {
    "rgb8": (3, _rgb),
    "bgr8": (3, _bgr),
    "rgba8": (4, _rgb),
    "bgra8": (4, _bgr),
    "mono8": (1, _mono8),
    "8UC1": (1, _mono8),
    "mono16": (2, _mono16),
    "16UC1": (2, _mono16),
    "yuv422": (2, _uyvy),
    "uyvy": (2, _uyvy),
    "yuv422_yuy2": (2, _yuyv),
    "yuyv": (2, _yuyv),
}
PIXEL_PAIRS = {"yuv422", "uyvy", "yuv422_yuy2", "yuyv"}
"""Encodings that pack two pixels in four bytes (shared chroma): the width must be even."""


def decode_image(encoding: str, height: int, width: int, step: int, is_bigendian: bool, data) -> np.ndarray:
    """sensor_msgs/Image fields -> contiguous uint8 RGB [height, width, 3].

    ``data``: bytes or any buffer (rclpy's uint8[] array is read without a copy); ``step`` bytes per row,
    padding included.
    """
    if encoding not in ENCODINGS:
        raise DecodeError(
            f"unsupported image encoding {encoding!r}; supported: {', '.join(ENCODINGS)} "
            f"(and CompressedImage jpeg/png): publish one of these or convert upstream"
        )
    bpp, convert = ENCODINGS[encoding]
    if height <= 0 or width <= 0:
        raise DecodeError(f"image of {width}x{height} pixels: width and height must be positive")
    if encoding in PIXEL_PAIRS and width % 2:
        raise DecodeError(f"{encoding} packs two pixels in four bytes: width must be even, got {width}")
    if step < width * bpp:
        raise DecodeError(f"step {step} is smaller than width {width} x {bpp} bytes per pixel for {encoding}")
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size != step * height:
        raise DecodeError(
            f"{encoding} image {width}x{height} with step {step} needs {step * height} bytes, "
            f"got {buf.size}: the message is truncated or its size fields are wrong"
        )
    pixels = buf.reshape(height, step)[:, : width * bpp].reshape(height, width, bpp)
    return np.ascontiguousarray(convert(pixels, bool(is_bigendian)))


def decode_compressed(fmt: str, data) -> np.ndarray:
    """sensor_msgs/CompressedImage fields (format e.g. 'jpeg', 'png', 'bgr8; jpeg compressed bgr8') -> RGB."""
    buf = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if bgr is None:
        raise DecodeError(
            f"cannot decode CompressedImage (format {fmt!r}, {buf.size} bytes): "
            f"expected JPEG or PNG data; the message is empty, truncated or in another format"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
