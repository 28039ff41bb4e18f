"""A seeded generator of malformed sensor_msgs Image and CompressedImage messages (no DDS, no rclpy).

``case(seed, index, kind)`` is a pure function: the same (seed, index, kind) gives the same message, so any
failure replays from those three values. Families take turns by index (``index % len(families)``) and each
family's variants take turns within it, so a few hundred cases cover every variant; the seed draws sizes, bytes
and cut points. Each case says whether it is ``valid``: the node must answer it (a ~/fix), or else count it once
as a decode error.

Stamps follow a synthetic clock, ``clock(index)``: case ``index`` is sent at that time, and the valid frames a
campaign interleaves after it at ``between(index)``; the stamp family sets other stamps (zero, negative, far
future, nanosec >= 1e9, going backwards) relative to that clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reliability.malformed_compressed import COMPRESSED_FAMILIES, Payload, jpeg, pixels
from vgssl_ros.core.decode import ENCODINGS

BASE_SEC = 1_700_000_000
"""The synthetic clock's start (s since 1970)."""
PERIOD_NS = 100_000_000
"""One case per 0.1 s of the synthetic clock; valid frames in between are stamped half a period later."""
UINT32_MAX = 2**32 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

ROS_ENCODINGS: dict[str, float] = {
    **{e: 3 for e in ("rgb8", "bgr8")},
    **{e: 4 for e in ("rgba8", "bgra8")},
    **{e: 6 for e in ("rgb16", "bgr16")},
    **{e: 8 for e in ("rgba16", "bgra16")},
    "mono8": 1,
    "mono16": 2,
    **{f"{bits}{t}C{c}": bits // 8 * c for bits, t in ((8, "U"), (8, "S"), (16, "U"), (16, "S")) for c in (1, 2, 3, 4)},
    **{f"{bits}{t}C{c}": bits // 8 * c for bits, t in ((32, "S"), (32, "F"), (64, "F")) for c in (1, 2, 3, 4)},
    **{f"bayer_{p}8": 1 for p in ("rggb", "bggr", "gbrg", "grbg")},
    **{f"bayer_{p}16": 2 for p in ("rggb", "bggr", "gbrg", "grbg")},
    **{e: 2 for e in ("uyvy", "yuv422", "yuyv", "yuv422_yuy2")},
    **{e: 1.5 for e in ("nv12", "nv21")},
    "nv24": 3,
}
"""Every encoding string sensor_msgs/image_encodings.hpp defines -> bytes per pixel."""
UNKNOWN_ENCODINGS = (
    "", "RGB8", "rgb8 ", " mono8", "rgb", "jpeg", "png", "8UC", "32FC", "bgr8; jpeg compressed bgr8",
    "mono8\t", "ümlaut", "x" * 1000, "rgb8\n",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One message and what the node must do with it: answer it (``valid``) or count one decode error."""

    seed: int
    index: int
    kind: str
    """'image' (sensor_msgs/Image) or 'compressed' (sensor_msgs/CompressedImage)."""
    name: str
    """'family/variant', e.g. 'step/short'."""
    valid: bool
    sec: int
    nanosec: int
    data: bytes
    encoding: str = ""
    height: int = 0
    width: int = 0
    step: int = 0
    is_bigendian: int = 0
    format: str = ""

    @property
    def family(self) -> str:
        """The family, the part of the name before '/'."""
        return self.name.split("/")[0]

    def describe(self) -> str:
        """One line that names the case and how to replay it."""
        what = "valid" if self.valid else "malformed"
        replay = f"case(seed={self.seed}, index={self.index}, kind={self.kind!r})"
        return f"{self.kind} case {self.name} ({what}; replay: {replay})"


def clock(index: int) -> tuple[int, int]:
    """The synthetic stamp (sec, nanosec) case ``index`` is sent at."""
    ns = BASE_SEC * 10**9 + index * PERIOD_NS
    return ns // 10**9, ns % 10**9


def between(index: int) -> tuple[int, int]:
    """The stamp of a valid frame sent after case ``index`` (half a period later)."""
    ns = BASE_SEC * 10**9 + index * PERIOD_NS + PERIOD_NS // 2
    return ns // 10**9, ns % 10**9


def _stamp(rng: np.random.Generator, index: int, k: int) -> tuple[str, tuple[int, int]]:
    sec, ns = clock(index)
    back = int(rng.integers(PERIOD_NS, 5 * 10**9))
    variants: list[tuple[str, tuple[int, int]]] = [
        ("zero", (0, 0)),
        ("negative", (int(rng.integers(INT32_MIN, 0)), int(rng.integers(0, 10**9)))),
        ("min", (INT32_MIN, 0)),
        ("far_future", (INT32_MAX, 999_999_999)),
        ("nanosec_1e9", (sec, 10**9)),
        ("nanosec_over", (sec, int(rng.integers(10**9, UINT32_MAX)))),
        ("nanosec_max", (sec, UINT32_MAX)),
        ("backwards", divmod(sec * 10**9 + ns - back, 10**9)),
        ("backwards_far", (sec - 3600, ns)),
        ("repeat", between(index - 1)),
    ]
    return variants[k % len(variants)]


Fields = tuple[str, bool, dict[str, object]]
"""(variant, valid, Image fields: encoding, height, width, step, is_bigendian, data)."""


def _rgb8(
    rng: np.random.Generator, h: int, w: int, step: int | None = None, size: int | None = None
) -> dict[str, object]:
    """rgb8 fields of a random h x w image, rows ``step`` bytes apart, data cut or padded to ``size`` bytes."""
    step = 3 * w if step is None else step
    rows = pixels(rng, h, w, 3).reshape(h, 3 * w)
    body = np.zeros((h, max(step, 3 * w)), np.uint8)
    body[:, : 3 * w] = rows
    data = body[:, :step].tobytes() if step else b""
    if size is not None:
        data = (data + bytes(rng.integers(0, 256, max(0, size - len(data)), np.uint8)))[:size]
    return {"encoding": "rgb8", "height": h, "width": w, "step": step, "is_bigendian": 0, "data": data}


def _step(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    pad = int(rng.integers(1, 64))
    variants: list[Fields] = [
        ("short", False, _rgb8(rng, h, w, step=int(rng.integers(0, 3 * w)))),
        ("zero", False, _rgb8(rng, h, w, step=0, size=h * w * 3)),
        ("padded", True, _rgb8(rng, h, w, step=3 * w + pad)),
        ("huge", False, _rgb8(rng, h, w, size=h * w * 3) | {"step": UINT32_MAX}),
        ("unpadded_data", False, _rgb8(rng, h, w, size=h * w * 3) | {"step": 3 * w + pad}),
    ]
    return variants[k % len(variants)]


def _data(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    n = h * w * 3
    variants: list[Fields] = [
        ("short", False, _rgb8(rng, h, w, size=n - int(rng.integers(1, n)))),
        ("long", False, _rgb8(rng, h, w, size=n + int(rng.integers(1, 4096)))),
        ("empty", False, _rgb8(rng, h, w, size=0)),
        ("much_longer", False, _rgb8(rng, h, w, size=n + 2**20)),
        ("one_byte_short", False, _rgb8(rng, h, w, size=n - 1)),
    ]
    return variants[k % len(variants)]


def _size(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    tiny = _rgb8(rng, 2, 2)
    variants: list[Fields] = [
        ("zero_height", False, tiny | {"height": 0}),
        ("zero_width", False, tiny | {"width": 0}),
        ("zero_both", False, {**tiny, "height": 0, "width": 0, "step": 0, "data": b""}),
        ("huge_height", False, tiny | {"height": UINT32_MAX}),
        ("huge_both", False, {**tiny, "height": UINT32_MAX, "width": UINT32_MAX, "step": UINT32_MAX}),
        ("over_max_pixels", False, {**tiny, "height": 4097, "width": 4097, "step": 3 * 4097}),
        ("one_pixel", True, _rgb8(rng, 1, 1)),
        ("one_row", True, _rgb8(rng, 1, w)),
        ("odd_width_yuv", False, {**tiny, "encoding": "yuyv", "width": 3, "height": 2, "step": 6, "data": bytes(12)}),
    ]
    return variants[k % len(variants)]


def _encoding(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    names = list(ROS_ENCODINGS)
    enc = names[k % len(names)]
    step = int(np.ceil(w * ROS_ENCODINGS[enc]))
    data = bytes(rng.integers(0, 256, h * step, np.uint8))
    fields = {"encoding": enc, "height": h, "width": w, "step": step, "is_bigendian": 0, "data": data}
    return enc, enc in ENCODINGS, fields


def _unknown_encoding(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    names = [*UNKNOWN_ENCODINGS, "".join(chr(c) for c in rng.integers(33, 127, int(rng.integers(1, 40))))]
    enc = names[k % len(names)]
    enc = enc + "?" if enc in ENCODINGS else enc
    variant = "random" if k % len(names) == len(names) - 1 else f"#{k % len(names)}"
    return variant, False, _rgb8(rng, h, w) | {"encoding": enc}


def _mono16(rng: np.random.Generator, h: int, w: int, value: int | None = None, big: int = 0) -> dict[str, object]:
    px = rng.integers(0, 2**16, (h, w)) if value is None else np.full((h, w), value)
    data = px.astype(">u2" if big else "<u2").tobytes()
    return {"encoding": "mono16", "height": h, "width": w, "step": 2 * w, "is_bigendian": big, "data": data}


def _endian(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    variants: list[Fields] = [
        ("rgb8_big", True, _rgb8(rng, h, w) | {"is_bigendian": 1}),
        ("mono16_big", True, _mono16(rng, h, w, big=1)),
        ("16UC1_big", True, _mono16(rng, h, w, big=1) | {"encoding": "16UC1"}),
        ("flag_255", True, _mono16(rng, h, w, big=255)),
    ]
    return variants[k % len(variants)]


def _values(rng: np.random.Generator, h: int, w: int, k: int) -> Fields:
    plain = _rgb8(rng, h, w)
    stripes = np.zeros((h, w, 3), np.uint8)
    stripes[:, ::2] = 255
    rgba = np.concatenate([pixels(rng, h, w, 3), np.zeros((h, w, 1), np.uint8)], axis=2)
    variants: list[Fields] = [
        ("black", True, plain | {"data": bytes(h * w * 3)}),
        ("white", True, plain | {"data": b"\xff" * (h * w * 3)}),
        ("stripes", True, plain | {"data": stripes.tobytes()}),
        ("noise", True, plain),
        ("mono16_max", True, _mono16(rng, h, w, value=2**16 - 1)),
        ("mono16_min", True, _mono16(rng, h, w, value=0)),
        ("rgba8_transparent", True, {**plain, "encoding": "rgba8", "step": 4 * w, "data": rgba.tobytes()}),
    ]
    return variants[k % len(variants)]


IMAGE_FAMILIES: dict[str, Callable[[np.random.Generator, int, int, int], Fields]] = {
    "step": _step,
    "data": _data,
    "size": _size,
    "encoding": _encoding,
    "unknown_encoding": _unknown_encoding,
    "endian": _endian,
    "values": _values,
}
"""Image family -> (rng, height, width, turn) -> (variant, valid, fields); plus 'stamp' for both kinds."""
KINDS = ("image", "compressed")


def families(kind: str) -> list[str]:
    """The family names of ``kind`` in the order they take turns."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    return [*(IMAGE_FAMILIES if kind == "image" else COMPRESSED_FAMILIES), "stamp"]


def case(seed: int, index: int, kind: str) -> Case:
    """Case ``index`` of the stream of ``kind`` messages drawn with ``seed``."""
    names = families(kind)
    family, turn = names[index % len(names)], index // len(names)
    rng = np.random.default_rng([seed, index, KINDS.index(kind)])
    h, w = int(rng.integers(2, 48)), 2 * int(rng.integers(1, 32))
    sec, nanosec = clock(index)
    if family == "stamp":
        variant, (sec, nanosec) = _stamp(rng, index, turn)
        valid = True
        fields: dict[str, object] = _rgb8(rng, h, w) if kind == "image" else {"format": "jpeg", "data": jpeg(rng, h, w)}
    elif kind == "image":
        variant, valid, fields = IMAGE_FAMILIES[family](rng, h, w, turn)
    else:
        payload: Payload = COMPRESSED_FAMILIES[family](rng, h, w, turn)
        variant, valid, fields = payload[0], payload[1], {"format": payload[2], "data": payload[3]}
    return Case(seed, index, kind, f"{family}/{variant}", valid, sec, nanosec, **fields)  # type: ignore[arg-type]


def cases(seed: int, kind: str, count: int, start: int = 0) -> list[Case]:
    """Cases ``start`` .. ``start + count - 1`` of the stream of ``kind`` messages drawn with ``seed``."""
    return [case(seed, i, kind) for i in range(start, start + count)]
