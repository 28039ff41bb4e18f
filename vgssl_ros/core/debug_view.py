"""The node's debug picture of one frame: the camera frame (with the model's activation map over it, where the model
has one) beside the map thumbnail of the published place, and what the localizer made of it (similarity,
probability, accepted or why not, single vs filtered distance)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from vgssl_ros.core.localizer import FrameResult
from vgssl_ros.datasets import overlay_activation

PANEL_HEIGHT = 240
"""Height in pixels of the two pictures (each scaled to it, aspect kept)."""
LINE_HEIGHT, FONT, FONT_SCALE = 22, cv2.FONT_HERSHEY_SIMPLEX, 0.5
GREEN, RED, WHITE, GREY = (90, 220, 90), (240, 80, 80), (235, 235, 235), (40, 40, 40)


def debug_lines(result: FrameResult, place_ids: np.ndarray) -> list[tuple[str, tuple[int, int, int]]]:
    """The text of the view for ``result`` as (line, RGB colour): the published answer, accepted or its rejection
    reason, the single-frame similarity and the filter's confidence, and how far the single-frame answer lies from
    the filtered one."""
    answer, estimate = result.answer, result.estimate
    verdict = ("accepted", GREEN) if answer.accepted else (f"rejected: {answer.reason}", RED)
    lines = [
        (f"{answer.mode} answer: place {answer.place} ({_shortened(str(place_ids[answer.place]))})", WHITE),
        (verdict[0], verdict[1]),
        (f"probability {answer.probability:.2f}   top-1 similarity {estimate.top1_similarity:.3f}", WHITE),
    ]
    if result.filtered is not None:
        apart = float(np.linalg.norm(np.asarray(estimate.position) - np.asarray(result.filtered.position)))
        single = "accepted" if estimate.accepted else "rejected"
        lines.append(
            (
                f"filter confidence {result.filtered.confidence:.2f}; single-frame ({single}, place "
                f"{estimate.top1_index}) {apart:.0f} m from filtered",
                WHITE,
            )
        )
    else:
        lines.append(("temporal filter off: single-frame answer", WHITE))
    return lines


def _shortened(text: str, length: int = 48) -> str:
    """``text`` cut to its last ``length`` characters (place ids can be long file names)."""
    return text if len(text) <= length else "..." + text[-length + 3 :]


def render_debug_view(
    frame: np.ndarray,
    place_image: np.ndarray | None,
    lines: list[tuple[str, tuple[int, int, int]]],
    height: int = PANEL_HEIGHT,
    activation: np.ndarray | None = None,
) -> np.ndarray:
    """uint8 RGB ``frame`` [H, W, 3] and ``place_image`` [h, w, 3] (None: the map has no thumbnails) side by side at
    ``height`` px, captioned, over the text ``lines`` -> uint8 RGB [height + text, width, 3]. ``activation`` [h', w']
    (FrameResult.activation; None: none) is laid over the camera frame as a heat map (red: where the descriptor
    looks)."""
    camera = _scaled(frame, height)
    if activation is not None:
        camera = overlay_activation(camera, activation)
    panels = [_captioned(camera, "camera + activation map" if activation is not None else "camera")]
    if place_image is not None:
        panels.append(_captioned(_scaled(place_image, height), "map place"))
    else:
        lines = [*lines, ("map has no thumbnails (vgssl-map build without --no-thumbnails): frame only", GREY)]
    gap = np.zeros((panels[0].shape[0], 4, 3), np.uint8)
    top = np.hstack([p for panel in panels for p in (panel, gap)][:-1])
    width = max(top.shape[1], 560)
    text = np.full((LINE_HEIGHT * len(lines) + 8, width, 3), 20, np.uint8)
    for i, (line, colour) in enumerate(lines):
        cv2.putText(text, line, (6, LINE_HEIGHT * (i + 1) - 4), FONT, FONT_SCALE, colour, 1, cv2.LINE_AA)
    canvas = np.zeros((top.shape[0] + text.shape[0], width, 3), np.uint8)
    canvas[: top.shape[0], : top.shape[1]] = top
    canvas[top.shape[0] :] = text
    return canvas


def _scaled(rgb: np.ndarray, height: int) -> np.ndarray:
    """``rgb`` [H, W, 3] resized to ``height`` rows, aspect kept."""
    h, w = rgb.shape[:2]
    width = max(1, math.floor(w * height / h + 0.5))
    interpolation = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(np.ascontiguousarray(rgb), (width, height), interpolation=interpolation), np.uint8)


def _captioned(rgb: np.ndarray, caption: str) -> np.ndarray:
    """``rgb`` with a one-line caption strip above it."""
    strip = np.full((LINE_HEIGHT, rgb.shape[1], 3), 50, np.uint8)
    cv2.putText(strip, caption, (4, LINE_HEIGHT - 6), FONT, FONT_SCALE, WHITE, 1, cv2.LINE_AA)
    return np.vstack([strip, rgb])
