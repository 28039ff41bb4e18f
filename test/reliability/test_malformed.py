"""The malformed-message generator: deterministic per seed, every family and variant, valid flags right."""

from __future__ import annotations

import numpy as np
import pytest

from reliability.malformed import ROS_ENCODINGS, Case, between, case, cases, clock, families
from vgssl_ros.core.decode import decode_compressed, decode_image
from vgssl_ros.core.errors import DecodeError
from vgssl_ros.core.settings import LocalizerSettings

MAX_PIXELS = LocalizerSettings().max_image_pixels
SWEEP = 240  # every variant of every family at least once (the longest cycle is the encoding list's)


def core_decodes(c: Case) -> bool:
    """Whether the core's decode path (size check and decoder, as LocalizerCore runs them) takes the case."""
    try:
        if c.kind == "image":
            if c.height * c.width > MAX_PIXELS:
                return False
            rgb = decode_image(c.encoding, c.height, c.width, c.step, bool(c.is_bigendian), c.data)
        else:
            rgb = decode_compressed(c.format, c.data, max_pixels=MAX_PIXELS)
    except DecodeError:
        return False
    return rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.shape[0] * rgb.shape[1] <= MAX_PIXELS


@pytest.mark.parametrize("kind", ["image", "compressed"])
def test_same_seed_same_cases_other_seed_other_bytes(kind):
    first, again, other = cases(3, kind, 40), cases(3, kind, 40), cases(4, kind, 40)
    assert first == again
    assert [c.name for c in first] == [c.name for c in other]  # families and variants take turns by index
    assert sum(a.data != b.data for a, b in zip(first, other)) > 20
    assert case(3, 17, kind) == first[17]  # one case replays alone from (seed, index, kind)


@pytest.mark.parametrize("kind", ["image", "compressed"])
def test_every_family_appears_and_both_verdicts_occur(kind):
    swept = cases(0, kind, SWEEP)
    assert {c.family for c in swept} == set(families(kind))
    assert any(c.valid for c in swept) and any(not c.valid for c in swept)


def test_every_ros_encoding_is_tried():
    names = {c.name for c in cases(0, "image", len(families("image")) * len(ROS_ENCODINGS))}
    assert {f"encoding/{e}" for e in ROS_ENCODINGS} <= names
    assert len(ROS_ENCODINGS) == 53  # 10 named, 28 OpenCV types, 8 Bayer, 4 YUV 4:2:2, nv12, nv21, nv24


@pytest.mark.parametrize("kind", ["image", "compressed"])
def test_valid_flags_match_what_the_decoder_does(kind):
    wrong = [c.describe() for c in cases(0, kind, SWEEP) if core_decodes(c) != c.valid]
    assert not wrong


def test_stamps_follow_the_clock_except_the_stamp_family():
    swept = cases(0, "image", SWEEP)
    assert all((c.sec, c.nanosec) == clock(c.index) for c in swept if c.family != "stamp")
    stamps = {c.name: (c.sec, c.nanosec) for c in swept if c.family == "stamp"}
    assert stamps["stamp/zero"] == (0, 0) and stamps["stamp/far_future"][0] == 2**31 - 1
    assert stamps["stamp/nanosec_max"][1] == 2**32 - 1 and stamps["stamp/nanosec_1e9"][1] == 10**9
    for c in swept:
        assert -(2**31) <= c.sec < 2**31 and 0 <= c.nanosec < 2**32  # what the message fields hold
    assert clock(1) < between(1) < clock(2)


def test_bombs_are_tiny_files_declaring_huge_images():
    bombs = [c for c in cases(0, "compressed", SWEEP) if c.family == "bomb" and not c.valid]
    assert bombs and all(len(c.data) < 100_000 for c in bombs)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="valid: image, compressed"):
        case(0, 0, "video")


def test_field_values_fit_the_message_types():
    for c in cases(1, "image", SWEEP):
        assert all(0 <= v < 2**32 for v in (c.height, c.width, c.step)) and 0 <= c.is_bigendian < 256
        assert isinstance(c.data, bytes) and "\x00" not in c.encoding
    assert np.mean([len(c.data) for c in cases(1, "compressed", SWEEP)]) < 200_000
