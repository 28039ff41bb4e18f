"""The debug view: frame beside the place thumbnail, and the verdict written under them."""

from __future__ import annotations

import numpy as np

from test.conftest import place_image
from vgssl_ros.core.answer import Answer
from vgssl_ros.core.debug_view import GREEN, RED, debug_lines, render_debug_view
from vgssl_ros.core.estimate import Estimate
from vgssl_ros.core.filter.state import FilterState, FilterStatus
from vgssl_ros.core.localizer import FrameResult

IDS = np.array([f"img{i}" for i in range(20)])


def _result(accepted: bool, single_at: float, filtered: bool = True) -> FrameResult:
    estimate = Estimate(np.array([single_at, 0.0]), np.eye(2), True, "", 7, 0.812, 0.1, 3)
    answer = Answer(
        np.zeros(2), np.eye(2), accepted, "" if accepted else "confidence 0.31 < 0.5", 0.64, 4, 0.0, "filtered"
    )
    state = FilterState(
        np.zeros(2), np.eye(2), 0.31, 0.6, 4, np.array([4]), 0.2, 3, FilterStatus.TRACKING, 9, np.eye(2)
    )
    return FrameResult(
        answer,
        estimate,
        np.array([7]),
        np.array([0.812]),
        np.zeros((1, 2)),
        np.zeros(1),
        1.0,
        2.0,
        state if filtered else None,
    )


def test_lines_name_the_place_the_verdict_the_scores_and_the_distance():
    lines = debug_lines(_result(False, 120.0), IDS)
    text = "\n".join(line for line, _ in lines)
    assert "filtered answer: place 4 (img4)" in text
    assert "rejected: confidence 0.31 < 0.5" in text and (("rejected: confidence 0.31 < 0.5", RED) in lines)
    assert "probability 0.64" in text and "similarity 0.812" in text
    assert "place 7) 120 m from filtered" in text
    assert ("accepted", GREEN) in debug_lines(_result(True, 0.0), IDS)
    assert "filter off" in "\n".join(line for line, _ in debug_lines(_result(True, 0.0, filtered=False), IDS))


def test_view_puts_frame_and_thumbnail_side_by_side_with_the_text_below():
    frame, thumb = place_image(1, 480, 640), place_image(2, 80, 160)
    lines = debug_lines(_result(True, 0.0), IDS)
    view = render_debug_view(frame, thumb, lines, height=240)
    assert view.dtype == np.uint8 and view.ndim == 3 and view.shape[2] == 3
    caption = 22
    assert view.shape[1] == 320 + 4 + 480 and view.shape[0] > caption + 240 + 22 * len(lines)
    left = view[caption : caption + 240, :320].astype(float)
    right = view[caption : caption + 240, 324:804].astype(float)
    assert np.abs(left - place_image(1, 240, 320)).mean() < 8  # the camera frame, scaled
    assert np.abs(right - place_image(2, 240, 480)).mean() < 12  # the place's thumbnail, scaled
    text = view[caption + 240 :]
    assert (np.abs(text.astype(int) - GREEN).sum(axis=2) < 60).sum() > 20  # "accepted" written in green


def test_without_a_thumbnail_the_view_shows_the_frame_alone_and_says_why():
    lines = debug_lines(_result(True, 0.0), IDS)
    alone = render_debug_view(place_image(1, 120, 160), None, lines, height=240)
    with_thumb = render_debug_view(place_image(1, 120, 160), place_image(2, 80, 160), lines, height=240)
    assert alone.shape[1] == 560 and alone.shape[0] == with_thumb.shape[0] + 22  # the extra note line
    assert (alone[22:262, 324:] == 0).all()  # nothing beside the frame


def test_activation_map_is_laid_over_the_camera_frame_only():
    lines = debug_lines(_result(True, 0.0), IDS)
    frame, thumb = np.full((120, 160, 3), 120, np.uint8), place_image(2, 80, 160)
    heat = np.zeros((8, 16), np.float32)
    heat[:, :8] = 1.0  # the descriptor looks at the left half
    plain = render_debug_view(frame, thumb, lines, height=240)
    assert (render_debug_view(frame, thumb, lines, height=240, activation=None) == plain).all()
    shown = render_debug_view(frame, thumb, lines, height=240, activation=heat).astype(int)
    camera = shown[22:262, :320]
    left, right = camera[:, 20:140].reshape(-1, 3).mean(axis=0), camera[:, 180:300].reshape(-1, 3).mean(axis=0)
    assert left[0] - left[2] > 40 and right[2] - right[0] > 40  # red where the map is high, blue where it is low
    assert (shown[:, 320:] == plain[:, 320:]).all() and (shown[262:] == plain[262:]).all()  # map place, text: as before
    assert (shown[:22, :320] != plain[:22, :320]).any()  # the caption says what the colours are
