"""The failure gallery: the worst wrong stretches of a drive, each as what the camera saw, the place the system
answered and the true place, so a person can tell the kind of failure (night, occlusion, repeated facade, map gap).
With a model exported with `--activation`, each picture carries the model's activation map: where it looked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from vgssl_ros.datasets import overlay_activation
from vgssl_ros.eval.frames import DriveFrames
from vgssl_ros.eval.plots import figure, save_figure
from vgssl_ros.eval.robustness import run_metres, run_seconds, runs

K = TypeVar("K", int, float)
WORST_STRETCHES = 6
"""Stretches shown in failures.png by default."""


@dataclass(frozen=True)
class Stretch:
    """A wrong streak: frames ``first``..``last`` (inclusive), ``seconds`` and ``metres`` it lasted, and the frame
    ``worst`` of the largest error with that ``error_m`` and its ``probability``."""

    first: int
    last: int
    seconds: float
    metres: float
    worst: int
    error_m: float
    probability: float


def worst_stretches(frames: DriveFrames, mode: str, radius_m: float, n: int = WORST_STRETCHES) -> list[Stretch]:
    """The ``n`` longest wrong streaks of ``mode`` (published answers outside ``radius_m``), longest first (ties:
    the larger error first)."""
    m = frames.modes[mode]
    errors = m.errors_m(frames.gt_utm)
    found = []
    for first, last in runs(m.accepted & ~m.correct(frames.gt_utm, radius_m)):
        worst = first + int(np.argmax(np.nan_to_num(errors[first : last + 1], nan=-1.0)))
        found.append(
            Stretch(
                first,
                last,
                run_seconds(frames.stamps, first, last),
                run_metres(frames.gt_utm, first, last),
                worst,
                float(errors[worst]),
                float(m.probability[worst]),
            )
        )
    return sorted(found, key=lambda s: (-s.seconds, -s.error_m))[:n]


def plot_failures(
    frames: DriveFrames,
    mode: str,
    stretches: list[Stretch],
    queries: dict[float, np.ndarray],
    place_images: Callable[[list[int]], dict[int, np.ndarray]],
    place_ids: np.ndarray,
    places_utm: np.ndarray,
    out: Path,
    title: str,
    activations: Callable[[list[np.ndarray]], np.ndarray] | None = None,
) -> Path:
    """One row per stretch: the query frame at its worst frame (``queries`` by stamp), the answered place and the
    true place (nearest to the truth) from ``place_images``; each titled with error, probability and where.
    ``activations``: uint8 RGB images -> activation maps [N, h, w] (Embedder.activations of a model exported with
    `--activation`), laid over every picture; None: the pictures as they are."""
    plt = figure()
    m = frames.modes[mode]
    answered = [_answered_place(m.place[s.worst], m.position[s.worst], places_utm) for s in stretches]
    true = [int(np.argmin(np.linalg.norm(places_utm - frames.gt_utm[s.worst], axis=1))) for s in stretches]
    images = place_images(sorted(set(answered + true)))
    if activations is not None:
        shown = {float(frames.stamps[s.worst]) for s in stretches}
        queries = _overlaid({t: q for t, q in queries.items() if t in shown}, activations)
        images = _overlaid(images, activations)
    rows = max(len(stretches), 1)
    fig, axes = plt.subplots(rows, 3, figsize=(10, 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    if not stretches:
        axes[0, 1].text(0.5, 0.5, "no wrong stretch: every published answer was right", ha="center", va="center")
    for k, (s, a, t) in enumerate(zip(stretches, answered, true), start=1):
        stamp = float(frames.stamps[s.worst])
        where = f"t {stamp - frames.stamps[0]:.1f} s, frames {s.first}-{s.last} ({s.seconds:.1f} s, {s.metres:.0f} m)"
        probability = f"p {s.probability:.2f}" if np.isfinite(s.probability) else "p unknown"
        _show(axes[k - 1, 0], queries.get(stamp), f"#{k} query: {where}", "query frame not found in the bag")
        _show(
            axes[k - 1, 1],
            images.get(a),
            f"answered place {a}: {_short(place_ids[a])}\nerror {s.error_m:.0f} m, {probability}",
            "no image stored",
        )
        gap = float(np.linalg.norm(places_utm[t] - frames.gt_utm[s.worst]))
        _show(
            axes[k - 1, 2],
            images.get(t),
            f"true place {t}: {_short(place_ids[t])}\n{gap:.0f} m from the truth",
            "no image stored",
        )
    heat = "; heat map: where the model looks (red most)" if activations is not None else ""
    fig.suptitle(f"{title}\nthe {len(stretches)} longest wrong stretches ({mode} answers){heat}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, plt, out)


def _overlaid(
    images: dict[K, np.ndarray], activations: Callable[[list[np.ndarray]], np.ndarray]
) -> dict[K, np.ndarray]:
    """``images`` (by key) with their activation maps laid over them (one batched model run for all)."""
    if not images:
        return {}
    maps = activations(list(images.values()))
    return {key: overlay_activation(rgb, heat) for (key, rgb), heat in zip(images.items(), maps)}


def _answered_place(place: int, position: np.ndarray, places_utm: np.ndarray) -> int:
    """The place an answer rests on; the nearest place to its position where that is unknown (-1)."""
    if place >= 0:
        return int(place)
    return int(np.argmin(np.linalg.norm(places_utm - position, axis=1)))


def _short(image_id: str, keep: int = 30) -> str:
    """An image id cut in the middle to ``keep`` characters, so captions do not run into each other."""
    text = str(image_id)
    return text if len(text) <= keep else f"{text[: keep // 2 - 1]}...{text[-(keep // 2 - 2) :]}"


def _show(ax, rgb: np.ndarray | None, caption: str, missing: str) -> None:
    ax.set_title(caption, fontsize=7)
    if rgb is None:
        ax.text(0.5, 0.5, missing, ha="center", va="center", fontsize=8, color="0.4", transform=ax.transAxes)
        return
    ax.imshow(rgb)
