"""sensor_msgs/Image and CompressedImage fields -> uint8 RGB [H, W, 3], without rclpy or cv_bridge.

Both the node and the bag reader call these with plain fields, so one decoder serves live and recorded data.
Layout, row padding (``step``) and byte order are handled in numpy; YUV 4:2:2 colour conversion and
JPEG/PNG decoding go through OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import cv2
import numpy as np

from vgssl_ros.core.errors import DecodeError

if TYPE_CHECKING:
    from array import array
    from mmap import mmap

    ImageBytes = bytes | bytearray | memoryview | array[int] | mmap | np.ndarray
    """What image data may come as: bytes, numpy arrays, rclpy's uint8[] (array.array)."""


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


def decode_image(encoding: str, height: int, width: int, step: int, is_bigendian: bool, data: ImageBytes) -> np.ndarray:
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


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); C4/C8/CC are other segments."""
JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}
"""JPEG markers without a length field (restart markers, TEM)."""


JPEG_MAX_SEGMENTS = 1024
"""Segments before the frame header beyond which a JPEG is refused (real files have a few dozen)."""


def compressed_size(buf: np.ndarray) -> tuple[int, int] | None:
    """(height, width) declared by the PNG IHDR or JPEG SOFn header of uint8 ``buf`` [n], read without decoding.

    None when ``buf`` is neither PNG nor JPEG or ends before the header (OpenCV then decides); DecodeError for
    a header that declares a zero size or a JPEG whose segments before the frame header are corrupt.
    """
    head = buf[:24].tobytes()
    if head.startswith(PNG_SIGNATURE) and len(head) >= 24 and head[12:16] == b"IHDR":
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    elif head.startswith(JPEG_SOI):
        found = _jpeg_frame_size(buf)
        if found is None:
            return None
        height, width = found
    else:
        return None
    if height == 0 or width == 0:
        raise DecodeError(f"compressed image header declares {width}x{height} pixels: the data is corrupt")
    return height, width


def _jpeg_frame_size(buf: np.ndarray) -> tuple[int, int] | None:
    """(height, width) of the first SOFn segment, walking segment lengths from SOI; None if the data ends first."""
    pos, n = 2, buf.size
    for _ in range(JPEG_MAX_SEGMENTS):
        if pos + 4 > n:
            return None
        if buf[pos] != 0xFF:
            raise DecodeError(f"JPEG data is corrupt: no segment marker at byte {pos}, before the frame header")
        marker = int(buf[pos + 1])
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in JPEG_STANDALONE:
            pos += 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):
            raise DecodeError(f"JPEG data is corrupt: marker 0x{marker:02X} at byte {pos} before the frame header")
        length = (int(buf[pos + 2]) << 8) | int(buf[pos + 3])
        if marker in JPEG_SOF:
            if pos + 9 > n:
                return None
            height = (int(buf[pos + 5]) << 8) | int(buf[pos + 6])
            width = (int(buf[pos + 7]) << 8) | int(buf[pos + 8])
            return height, width
        if length < 2:
            raise DecodeError(f"JPEG data is corrupt: segment 0x{marker:02X} at byte {pos} has length {length}")
        pos += 2 + length
    raise DecodeError(f"JPEG data has more than {JPEG_MAX_SEGMENTS} segments before its frame header: corrupt")


def decode_compressed(fmt: str, data: ImageBytes, max_pixels: int | None = None) -> np.ndarray:
    """sensor_msgs/CompressedImage fields (format e.g. 'jpeg', 'png', 'bgr8; jpeg compressed bgr8') -> RGB.

    ``max_pixels``: refuse a PNG or JPEG whose header declares more pixels, before decoding it (a small
    file can declare a huge image). Any other data is left to OpenCV; each failure is a DecodeError.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.size == 0:
        raise DecodeError(f"cannot decode CompressedImage (format {fmt!r}): the message holds no data")
    declared = compressed_size(buf)
    if declared is not None and max_pixels is not None and declared[0] * declared[1] > max_pixels:
        raise DecodeError(
            f"CompressedImage (format {fmt!r}, {buf.size} bytes) declares {declared[1]}x{declared[0]} pixels, "
            f"more than max_pixels={max_pixels}: refused before decoding; send smaller images or raise max_image_pixels"
        )
    try:
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        rgb = None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    except cv2.error as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cv2.error"
        raise DecodeError(
            f"cannot decode CompressedImage (format {fmt!r}, {buf.size} bytes): OpenCV refused it ({first})"
        ) from None
    if rgb is None:
        raise DecodeError(
            f"cannot decode CompressedImage (format {fmt!r}, {buf.size} bytes): "
            f"expected JPEG or PNG data; the message is empty, truncated or in another format"
        )
    if max_pixels is not None and rgb.shape[0] * rgb.shape[1] > max_pixels:
        raise DecodeError(f"image {rgb.shape[1]}x{rgb.shape[0]} has more than max_pixels={max_pixels} pixels")
    return np.asarray(rgb)
