"""The CompressedImage families of the malformed-message generator (malformed.py): JPEG and PNG, whole,
truncated, garbage, bombs (a tiny file declaring a huge image) and odd format strings."""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable

import cv2
import numpy as np

from vgssl_ros.core.decode import PNG_SIGNATURE

Payload = tuple[str, bool, str, bytes]
"""(variant, valid, CompressedImage.format, CompressedImage.data)."""


def pixels(rng: np.random.Generator, h: int, w: int, c: int) -> np.ndarray:
    """A random uint8 image [h, w, c]."""
    return rng.integers(0, 256, (h, w, c), np.uint8)


def jpeg(rng: np.random.Generator, h: int, w: int, quality: int = 90, progressive: bool = False) -> bytes:
    """A random h x w JPEG."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)]
    return cv2.imencode(".jpg", pixels(rng, h, w, 3), params)[1].tobytes()


def encoded_png(image: np.ndarray) -> bytes:
    """``image`` (uint8 or uint16, [h, w] or [h, w, c]) as PNG by OpenCV."""
    return cv2.imencode(".png", image)[1].tobytes()


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


@functools.lru_cache(maxsize=8)
def grey_png(width: int, height: int, rows: int | None = None) -> bytes:
    """An 8-bit grey PNG whose header declares ``width`` x ``height`` and whose data holds ``rows`` zero rows
    (default: all of them); fewer rows than declared make a tiny file declaring a huge image."""
    rows = height if rows is None else rows
    raw = bytes(rows * (1 + width))  # filter byte 0 + zero pixels per row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _jpeg_declaring(rng: np.random.Generator, height: int, width: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to declare ``height`` x ``width``."""
    data = bytearray(jpeg(rng, 8, 8))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _jpeg(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    variants: list[Payload] = [
        ("small", True, "jpeg", jpeg(rng, h, w)),
        ("grey", True, "jpeg", cv2.imencode(".jpg", pixels(rng, h, w, 1))[1].tobytes()),
        ("progressive", True, "jpeg", jpeg(rng, h, w, progressive=True)),
        ("one_pixel", True, "jpeg", jpeg(rng, 1, 1)),
        ("quality_1", True, "jpeg", jpeg(rng, h, w, quality=1)),
    ]
    return variants[k % len(variants)]


def _png(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    variants: list[Payload] = [
        ("rgb", True, "png", encoded_png(pixels(rng, h, w, 3))),
        ("grey", True, "png", encoded_png(pixels(rng, h, w, 1))),
        ("rgba", True, "png", encoded_png(pixels(rng, h, w, 4))),
        ("16bit", True, "png", encoded_png(rng.integers(0, 2**16, (h, w), np.uint16))),
        ("hand_written", True, "png", grey_png(w, h)),
    ]
    return variants[k % len(variants)]


def _truncated(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    whole_jpeg, whole_png = jpeg(rng, h, w), encoded_png(pixels(rng, h, w, 3))
    sos = whole_jpeg.find(b"\xff\xda")
    variants: list[Payload] = [
        ("jpeg_header", False, "jpeg", whole_jpeg[: int(rng.integers(2, sos))]),
        ("jpeg_scan", False, "jpeg", whole_jpeg[: int(rng.integers(sos + 2, len(whole_jpeg) - 1))]),
        ("png", False, "png", whole_png[: int(rng.integers(1, len(whole_png) - 12))]),
        ("one_byte", False, "jpeg", whole_jpeg[:1]),
        ("empty", False, "jpeg", b""),
    ]
    return variants[k % len(variants)]


def _garbage(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    noise = bytes(rng.integers(0, 256, int(rng.integers(16, 4096)), np.uint8))
    whole_png = bytearray(encoded_png(pixels(rng, h, w, 3)))
    idat = whole_png.find(b"IDAT") + 4
    whole_png[idat + int(rng.integers(0, 8))] ^= 0xFF  # CRC no longer matches
    variants: list[Payload] = [
        ("random", False, "jpeg", b"\x00\x01" + noise),  # no image signature of any format OpenCV reads
        ("jpeg_start", False, "jpeg", b"\xff\xd8\x00" + noise),  # SOI, then no segment marker
        ("png_signature", False, "png", PNG_SIGNATURE + noise),
        ("png_bad_crc", False, "png", bytes(whole_png)),
        ("text", False, "jpeg", b"this is not an image"),
    ]
    return variants[k % len(variants)]


def _bomb(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    variants: list[Payload] = [
        ("png_20000", False, "png", grey_png(20000, 20000, rows=16)),
        ("png_65535", False, "png", grey_png(65535, 65535, rows=1)),
        ("png_max", False, "png", grey_png(2**31 - 1, 2**31 - 1, rows=0)),
        ("png_wide", False, "png", grey_png(2**31 - 1, 1, rows=0)),
        ("png_zero", False, "png", grey_png(0, 0, rows=0)),
        ("jpeg_65535", False, "jpeg", _jpeg_declaring(rng, 65535, 65535)),
        ("jpeg_zero", False, "jpeg", _jpeg_declaring(rng, 0, 0)),
        ("png_under_limit", True, "png", grey_png(4000, 4000)),  # 16 M pixels: below max_image_pixels
    ]
    return variants[k % len(variants)]


def _format(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    whole_jpeg, whole_png = jpeg(rng, h, w), encoded_png(pixels(rng, h, w, 3))
    variants: list[Payload] = [
        ("empty", True, "", whole_jpeg),
        ("png_on_jpeg", True, "png", whole_jpeg),
        ("jpeg_on_png", True, "jpeg", whole_png),
        ("image_transport", True, "bgr8; jpeg compressed bgr8", whole_jpeg),
        ("depth", True, "16UC1; compressedDepth png", whole_png),
        ("unicode", True, "ümlaut", whole_jpeg),
        ("long", True, "x" * 1000, whole_png),
    ]
    return variants[k % len(variants)]


def _values(rng: np.random.Generator, h: int, w: int, k: int) -> Payload:
    variants: list[Payload] = [
        ("black", True, "jpeg", cv2.imencode(".jpg", np.zeros((h, w, 3), np.uint8))[1].tobytes()),
        ("white", True, "png", encoded_png(np.full((h, w, 3), 255, np.uint8))),
        ("one_pixel", True, "png", encoded_png(pixels(rng, 1, 1, 3))),
        ("one_row", True, "png", encoded_png(pixels(rng, 1, 2000, 3))),
        ("one_column", True, "png", encoded_png(pixels(rng, 2000, 1, 3))),
        ("noise_quality_100", True, "jpeg", jpeg(rng, h, w, quality=100)),
    ]
    return variants[k % len(variants)]


COMPRESSED_FAMILIES: dict[str, Callable[[np.random.Generator, int, int, int], Payload]] = {
    "jpeg": _jpeg,
    "png": _png,
    "truncated": _truncated,
    "garbage": _garbage,
    "bomb": _bomb,
    "format": _format,
    "values": _values,
}
"""CompressedImage family -> (rng, height, width, turn) -> (variant, valid, format, data)."""
