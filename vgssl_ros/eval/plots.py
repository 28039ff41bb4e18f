"""PNG plots of a scored drive: trajectory, Recall@N curve, error CDF (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.geo import EVAL_RADIUS_M, neighbours_within
from vgssl_ros.io import atomic_path


def figure():
    """matplotlib.pyplot with the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_trajectory(
    outcome: DriveOutcome,
    places_utm: np.ndarray,
    out: Path,
    title: str,
    radius_m: float = EVAL_RADIUS_M,
    stretches: Sequence[tuple[int, int]] = (),
) -> Path:
    """Map places, ground truth, and estimates coloured correct / wrong / rejected; ``stretches`` (first, last
    frame) are marked on the route as #1, #2, ... (the failure gallery's rows)."""
    plt = figure()
    origin = places_utm.min(axis=0)
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.scatter(*(places_utm - origin).T, s=4, c="0.8", label="map places")
    ax.plot(*(outcome.gt_utm - origin).T, "-", c="k", lw=1, label="ground truth")
    err = outcome.errors_m()
    has = np.isfinite(err)
    groups = {
        "correct": outcome.accepted & has & (err <= radius_m),
        "wrong": outcome.accepted & has & (err > radius_m),
        "rejected": ~outcome.accepted & has,
    }
    for (name, mask), colour in zip(groups.items(), ("tab:green", "tab:red", "tab:orange")):
        ax.scatter(*(outcome.est_utm[mask] - origin).T, s=10, c=colour, label=f"{name} ({int(mask.sum())})")
    for k, (first, last) in enumerate(stretches, start=1):
        route = outcome.gt_utm[first : last + 1] - origin
        ax.plot(*route.T, "-o", c="tab:purple", lw=4, ms=3, alpha=0.7, label="failure stretches" if k == 1 else None)
        ax.annotate(f"#{k}", route[0], fontsize=9, color="tab:purple", weight="bold")
    ax.set_aspect("equal")
    ax.set_xlabel("east (m)")
    ax.set_ylabel("north (m)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    return save_figure(fig, plt, out)


def plot_recall_curve(
    outcome: DriveOutcome, places_utm: np.ndarray, out: Path, title: str, radius_m: float = EVAL_RADIUS_M
) -> Path:
    """Recall@N for N = 1..K."""
    from vgssl_ros.metrics import recall_at_n

    plt = figure()
    k = outcome.candidates.shape[1]
    recall = recall_at_n(outcome.candidates, neighbours_within(outcome.gt_utm, places_utm, radius_m), range(1, k + 1))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(list(recall), list(recall.values()), marker="o")
    ax.set_xlabel("N")
    ax.set_ylabel(f"Recall@N (%), {radius_m:g} m")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return save_figure(fig, plt, out)


def plot_error_cdf(outcome: DriveOutcome, out: Path, title: str) -> Path:
    """Cumulative distribution of position errors of accepted estimates."""
    plt = figure()
    err = np.sort(outcome.errors_m()[outcome.accepted & np.isfinite(outcome.errors_m())])
    fig, ax = plt.subplots(figsize=(5, 4))
    if err.size:
        ax.step(err, np.arange(1, err.size + 1) / len(outcome.gt_utm), where="post")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("position error (m)")
    ax.set_ylabel("fraction of frames")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return save_figure(fig, plt, out)


def save_figure(fig, plt, out: Path) -> Path:
    """Write ``fig`` as a PNG to ``out`` atomically and close it."""
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return out
