"""Image decoding from sensor_msgs/Image fields: every encoding, row padding, byte order, errors."""

from __future__ import annotations

import array

import cv2
import numpy as np
import pytest

from vgssl_ros.core import DecodeError, decode_compressed, decode_image

H, W, PAD = 4, 6, 5
RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
GREY = RNG.integers(0, 256, (H, W), dtype=np.uint8)


def padded(pixels: np.ndarray) -> tuple[int, bytes]:
    """Rows of ``pixels`` [H, W, C] (uint8 bytes) followed by PAD garbage bytes: (step, data)."""
    rows = pixels.reshape(pixels.shape[0], -1)
    step = rows.shape[1] + PAD
    out = np.full((rows.shape[0], step), 0xAB, np.uint8)
    out[:, : rows.shape[1]] = rows
    return step, out.tobytes()


@pytest.mark.parametrize(
    "encoding,pixels,expected",
    [
        ("rgb8", RGB, RGB),
        ("bgr8", RGB[:, :, ::-1], RGB),
        ("rgba8", np.dstack([RGB, np.full((H, W), 7, np.uint8)]), RGB),
        ("bgra8", np.dstack([RGB[:, :, ::-1], np.full((H, W), 7, np.uint8)]), RGB),
        ("mono8", GREY[:, :, None], np.repeat(GREY[:, :, None], 3, axis=2)),
    ],
)
def test_8bit_encodings_with_row_padding(encoding, pixels, expected):
    step, data = padded(np.ascontiguousarray(pixels))
    out = decode_image(encoding, H, W, step, False, data)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("big_endian", [False, True])
def test_mono16_honours_byte_order(big_endian):
    values = GREY.astype(np.uint16) * 256 + 17
    raw = values.astype(">u2" if big_endian else "<u2").view(np.uint8).reshape(H, W, 2)
    step, data = padded(raw)
    out = decode_image("mono16", H, W, step, big_endian, data)
    np.testing.assert_array_equal(out, np.repeat(GREY[:, :, None], 3, axis=2))


def _yuv422(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 studio-range Y, U, V of an RGB image whose horizontal pixel pairs share a colour."""
    r, g, b = (rgb[:, :, i].astype(np.float64) for i in range(3))
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    return (np.round(c).astype(np.uint8) for c in (y, u[:, ::2], v[:, ::2]))


@pytest.mark.parametrize("encoding", ["yuv422", "uyvy", "yuv422_yuy2", "yuyv"])
def test_yuv422_packings(encoding):
    rgb = np.repeat(RNG.integers(30, 220, (H, W // 2, 3), dtype=np.uint8), 2, axis=1)  # pairs share chroma
    y, u, v = _yuv422(rgb)
    packed = np.empty((H, W // 2, 4), np.uint8)
    if encoding in ("yuv422", "uyvy"):
        packed[..., 0], packed[..., 1], packed[..., 2], packed[..., 3] = u, y[:, ::2], v, y[:, 1::2]
    else:
        packed[..., 0], packed[..., 1], packed[..., 2], packed[..., 3] = y[:, ::2], u, y[:, 1::2], v
    step, data = padded(packed.reshape(H, W, 2))
    out = decode_image(encoding, H, W, step, False, data)
    assert out.shape == (H, W, 3)
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 3


def test_rclpy_style_buffers_are_accepted():
    step, data = padded(RGB)
    out = decode_image("rgb8", H, W, step, False, array.array("B", data))
    np.testing.assert_array_equal(out, RGB)


@pytest.mark.parametrize(
    "fields,message",
    [
        (("bayer_rggb8", H, W, W, False, bytes(H * W)), "unsupported image encoding 'bayer_rggb8'"),
        (("rgb8", H, W, 3 * W, False, bytes(3 * W * H - 1)), "truncated"),
        (("rgb8", H, W, 3 * W - 1, False, bytes(3 * W * H)), "smaller than width"),
        (("yuyv", H, 5, 10, False, bytes(10 * H)), "width must be even"),
        (("mono8", 0, W, W, False, b""), "must be positive"),
    ],
)
def test_bad_messages_raise_one_clear_error(fields, message):
    with pytest.raises(DecodeError, match=message):
        decode_image(*fields)


def test_compressed_png_is_lossless_and_jpeg_close():
    ok, png = cv2.imencode(".png", cv2.cvtColor(RGB, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(decode_compressed("png", png.tobytes()), RGB)
    smooth = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(smooth, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert np.abs(decode_compressed("jpeg", jpg.tobytes()).astype(int) - smooth).max() <= 4


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff not really a jpeg"])
def test_corrupt_compressed_image_is_a_clear_error(data):
    with pytest.raises(DecodeError, match="cannot decode CompressedImage"):
        decode_compressed("jpeg", data)
