"""Image decoding from sensor_msgs/Image fields: every encoding, row padding, byte order, errors."""

from __future__ import annotations

import array

import cv2
import numpy as np
import pytest

from vgssl_ros.core import DecodeError, decode_compressed, decode_image
from vgssl_ros.core.decode import PNG_SIGNATURE, compressed_size

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


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header declaring width x height grey pixels, with a small zlib body of zeros."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * min(height, 64), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A real 16x16 JPEG whose frame header (SOF0) is rewritten to declare width x height."""
    ok, jpg = cv2.imencode(".jpg", np.full((16, 16, 3), 99, np.uint8))
    data = bytearray(jpg.tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if OpenCV is asked to decode."""

    def refuse(*args, **kwargs):
        raise AssertionError("cv2.imdecode was called on an image that should be refused from its header")

    monkeypatch.setattr(cv2, "imdecode", refuse)


@pytest.mark.parametrize("make", [_png_bomb, _jpeg_declaring])
def test_decompression_bomb_is_refused_from_its_header(make, no_decoding):
    import time

    data = make(20000, 20000)
    assert len(data) < 2000
    t0 = time.perf_counter()
    with pytest.raises(DecodeError, match=r"declares 20000x20000 pixels, more than max_pixels=16777216"):
        decode_compressed("png", data, max_pixels=1 << 24)
    assert time.perf_counter() - t0 < 0.05


def test_header_sizes_are_read_without_decoding(no_decoding):
    from vgssl_ros.core.decode import compressed_size

    ok, png = cv2.imencode(".png", RGB)
    assert compressed_size(png) == (H, W)
    assert compressed_size(np.frombuffer(_jpeg_declaring(640, 480), np.uint8)) == (480, 640)
    assert compressed_size(np.frombuffer(b"BM garbage", np.uint8)) is None
    with pytest.raises(DecodeError, match="declares 0x5 pixels"):
        decode_compressed("png", _png_bomb(0, 5))


def test_images_within_the_limit_still_decode():
    assert decode_compressed("png", _png_bomb(300, 60), max_pixels=300 * 60).shape == (60, 300, 3)
    ok, jpg = cv2.imencode(".jpg", np.full((48, 64, 3), 99, np.uint8))
    assert decode_compressed("jpeg", jpg.tobytes(), max_pixels=64 * 48).shape == (48, 64, 3)
    with pytest.raises(DecodeError, match="declares 64x48 pixels, more than max_pixels=3071"):
        decode_compressed("jpeg", jpg.tobytes(), max_pixels=64 * 48 - 1)


def _truncations_and_garbage() -> list[bytes]:
    ok, jpg = cv2.imencode(".jpg", RGB)
    ok, png = cv2.imencode(".png", RGB)
    rng = np.random.default_rng(7)
    cases = [jpg.tobytes()[:n] for n in (2, 3, 10, 40, 150)] + [png.tobytes()[:n] for n in (8, 20, 30, 60)]
    cases += [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in (1, 17, 5000)]
    cases += [b"\xff\xd8" + b"\x00" * 64, b"\xff\xd8\xff\xe0\x00\x01", b"\xff\xd8\xff\xda\x00\x08" + b"\x00" * 16]
    cases += [b"\xff\xd8" + b"\xff\xe1\x00\x02" * 2000 + jpg.tobytes()[2:]]
    return cases


@pytest.mark.parametrize("data", _truncations_and_garbage())
def test_truncated_and_garbage_data_give_decode_error(data):
    with pytest.raises(DecodeError):
        decode_compressed("jpeg", data, max_pixels=1 << 24)


def test_opencv_refusals_are_decode_errors(monkeypatch):
    def opencv_fails(*args, **kwargs):
        raise cv2.error("OpenCV(5.0.0) imdecode: (-215:Assertion failed) buf.checkVector(1, CV_8U) > 0")

    monkeypatch.setattr(cv2, "imdecode", opencv_fails)
    with pytest.raises(DecodeError, match="OpenCV refused it"):
        decode_compressed("jpeg", b"\x00\x01\x02")


# --- header parsing details (issue 19 mutation survivors): each case below changes the answer if one
# comparison, offset or byte order in compressed_size / _jpeg_frame_size is off by one.

SOI = b"\xff\xd8"


def _sof(height: int, width: int) -> bytes:
    """A baseline frame header (SOF0) declaring height x width, three components."""
    return b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + b"\x00" * 9


def _png_header(width: int, height: int) -> bytes:
    """The first 24 bytes of a PNG: signature, IHDR length and type, width and height."""
    return PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big")


def _size(data: bytes) -> tuple[int, int] | None:
    """compressed_size of raw bytes."""
    return compressed_size(np.frombuffer(data, np.uint8))


@pytest.mark.parametrize(
    "data,expected",
    [
        (SOI + b"\xff" + _sof(48, 64), (48, 64)),  # one fill byte before the marker
        (SOI + b"\xff\xd0\xff\x01\xff\xd7" + _sof(48, 64), (48, 64)),  # standalone markers have no length
        (SOI + b"\xff\xe0\x00\x02" + _sof(48, 64), (48, 64)),  # an empty segment (length 2) is valid
        (SOI + b"\xff\xe1\x01\x02" + b"\x00" * 256 + _sof(48, 64), (48, 64)),  # a segment longer than 255 bytes
        (SOI + b"\xff\xc0\x00\x11\x08\x00\x30\x00\x40", (48, 64)),  # the header ends right after the width
        (SOI + b"\xff\xc0\x00\x11\x08\x00\x30\x00", None),  # ... or one byte before it: not known yet
        (SOI + b"\xff\xe0\x00\x02", None),  # data ends between segments
        (_png_header(5, 1), (1, 5)),
        (_png_header((1 << 24) + 5, (1 << 24) + 3), ((1 << 24) + 3, (1 << 24) + 5)),  # all four bytes count
        (PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR\x00\x00", None),  # PNG cut inside IHDR
        (PNG_SIGNATURE + b"\x00\x00\x00\x0dtEXt" + b"\x00\x00\x00\x05\x00\x00\x00\x05", None),
        (b"BM" + b"\x00" * 10 + b"IHDR" + b"\x00\x00\x00\x05\x00\x00\x00\x05", None),  # IHDR alone is not a PNG
    ],
)
def test_header_walk_finds_the_declared_size(data, expected):
    assert _size(data) == expected


@pytest.mark.parametrize(
    "data,message",
    [
        (SOI + b"\x00\x00\x00\x00", "no segment marker at byte 2, before the frame header"),
        (SOI + b"\xff\xd8\x00\x04\x00\x00" + _sof(8, 8), "marker 0xD8 at byte 2 before the frame header"),
        (SOI + b"\xff\xd9\x00\x04\x00\x00" + _sof(8, 8), "marker 0xD9 at byte 2 before the frame header"),
        (SOI + b"\xff\xda\x00\x04\x00\x00" + _sof(8, 8), "marker 0xDA at byte 2 before the frame header"),
        (SOI + b"\xff\xd9\x00\x00", "marker 0xD9 at byte 2"),  # the last four bytes are still read
        (SOI + b"\xff\xe0\x00\x01" + _sof(8, 8), "segment 0xE0 at byte 2 has length 1"),
        (SOI + b"\xff\xd0" * 1024 + _sof(8, 8), "more than 1024 segments before its frame header"),
        (_png_header(5, 0), "declares 5x0 pixels"),
    ],
)
def test_corrupt_headers_are_named(data, message):
    with pytest.raises(DecodeError, match=message):
        _size(data)


def test_small_images_and_odd_sizes_decode():
    assert decode_image("mono8", 1, 1, 1, False, b"\x07").tolist() == [[[7, 7, 7]]]
    assert decode_image("yuyv", 1, 2, 4, False, b"\x80\x80\x80\x80").shape == (1, 2, 3)  # 2 % 3 != 0
    assert decode_image("yuyv", 1, 4, 8, False, b"\x80" * 8).shape == (1, 4, 3)
    with pytest.raises(DecodeError, match="0x4 pixels: width and height must be positive"):
        decode_image("mono8", 4, 0, 0, False, b"")


def test_mono16_output_is_uint8():
    out = decode_image("mono16", 1, 2, 4, False, b"\x00\x12\x00\xff")
    assert out.dtype == np.uint8 and out[0, :, 0].tolist() == [0x12, 0xFF]


def test_error_messages_name_the_supported_encodings_and_the_expected_size():
    with pytest.raises(DecodeError, match="supported: rgb8, bgr8, rgba8"):
        decode_image("bayer_rggb8", H, W, W, False, bytes(H * W))
    with pytest.raises(DecodeError, match=f"needs {3 * W * H} bytes, got {3 * W * H - 1}"):
        decode_image("rgb8", H, W, 3 * W, False, bytes(3 * W * H - 1))


def test_compressed_failures_say_which():
    with pytest.raises(DecodeError, match="the message holds no data"):
        decode_compressed("jpeg", b"")
    with pytest.raises(DecodeError, match="expected JPEG or PNG data"):
        decode_compressed("jpeg", b"\x00\x01\x02 not an image")


@pytest.mark.parametrize(
    "text,shown",
    [
        (
            "OpenCV(5.0.0) loadsave.cpp:802: error:\n(-215:Assertion failed) buf.checkVector(1, CV_8U) > 0",
            "(-215:Assertion failed) buf.checkVector(1, CV_8U) > 0",
        ),
        ("", "cv2.error"),
    ],
)
def test_opencv_refusals_quote_its_last_line(monkeypatch, text, shown):
    def opencv_fails(*args, **kwargs):
        raise cv2.error(text)

    monkeypatch.setattr(cv2, "imdecode", opencv_fails)
    with pytest.raises(DecodeError) as err:
        decode_compressed("jpeg", b"\x00\x01\x02")
    assert f"OpenCV refused it ({shown})" in str(err.value)


def test_other_formats_are_limited_after_decoding():
    ok, bmp = cv2.imencode(".bmp", cv2.cvtColor(RGB, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(decode_compressed("bmp", bmp.tobytes(), max_pixels=H * W), RGB)
    with pytest.raises(DecodeError, match=f"image {W}x{H} has more than max_pixels={H * W - 1} pixels"):
        decode_compressed("bmp", bmp.tobytes(), max_pixels=H * W - 1)
