"""Figures as in the VG-SSL paper: retrieval (each query, then its top-k database images framed correct or wrong,
Figures 4-5) and activation maps (each query and its positive with where the descriptor looks, Figure 3)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from vgssl_ros.datasets import load_rgb, overlay_activation, resize_rgb
from vgssl_ros.io import atomic_path

GREEN = (0, 170, 0)  # RGB: retrieved within 25 m of the query
RED = (210, 0, 0)  # RGB: farther
GREY = (128, 128, 128)  # RGB: the query itself


def figure_queries(num_queries: int, count: int) -> np.ndarray:
    """``count`` query indices spread evenly over ``num_queries`` (the same for every model on a split)."""
    return np.unique(np.linspace(0, num_queries - 1, min(count, num_queries)).round().astype(np.int64))


def _framed(
    path: str, height: int, width: int, colour: tuple[int, int, int], border: int, activation: np.ndarray | None = None
) -> np.ndarray:
    tile = np.empty((height + 2 * border, width + 2 * border, 3), np.uint8)
    tile[:] = colour
    rgb = resize_rgb(load_rgb(path), height, width)
    tile[border : border + height, border : border + width] = (
        rgb if activation is None else overlay_activation(rgb, activation)
    )
    return tile


def retrieval_grid(
    query_paths: Sequence[str],
    database_paths: Sequence[str],
    predictions: np.ndarray,
    positives: Sequence[np.ndarray],
    queries: np.ndarray,
    top_k: int = 5,
    tile: tuple[int, int] = (64, 128),
    border: int = 4,
    gap: int = 12,
) -> np.ndarray:
    """uint8 RGB image: one row per query in ``queries`` (grey frame), then its ``top_k`` predictions
    (``predictions`` [Nq, >=top_k] database indices), green if within the query's ``positives``, red if not."""
    height, width = tile
    rows = []
    for q in queries:
        cells = [
            _framed(query_paths[q], height, width, GREY, border),
            np.full((height + 2 * border, gap, 3), 255, np.uint8),
        ]
        for d in predictions[q][:top_k]:
            ok = d >= 0 and d in positives[q]
            cells.append(_framed(database_paths[d], height, width, GREEN if ok else RED, border))
        rows.append(np.concatenate(cells, axis=1))
        rows.append(np.full((border, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def activation_grid(
    query_paths: Sequence[str],
    positive_paths: Sequence[str | None],
    query_maps: np.ndarray,
    positive_maps: np.ndarray,
    tile: tuple[int, int] = (64, 128),
    border: int = 4,
    gap: int = 12,
) -> np.ndarray:
    """uint8 RGB image: one row per query, the query (grey frame) then its positive (green frame; white where it
    has none), each overlaid with its activation map (``query_maps`` / ``positive_maps`` [Q, h, w], 0..1)."""
    height, width = tile
    blank = np.full((height + 2 * border, width + 2 * border, 3), 255, np.uint8)
    rows = []
    for query, positive, query_map, positive_map in zip(query_paths, positive_paths, query_maps, positive_maps):
        cells = [
            _framed(query, height, width, GREY, border, query_map),
            np.full((height + 2 * border, gap, 3), 255, np.uint8),
            blank if positive is None else _framed(positive, height, width, GREEN, border, positive_map),
        ]
        rows.append(np.concatenate(cells, axis=1))
        rows.append(np.full((border, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB uint8 image as PNG, atomically (parent folders created); returns the path."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise OSError(f"could not encode {path} as PNG")
    with atomic_path(path) as tmp:
        tmp.write_bytes(png.tobytes())
    return Path(path)
