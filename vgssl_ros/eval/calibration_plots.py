"""Plots of confidence quality: precision-recall of the score, reliability of the calibrated probability."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vgssl_ros.eval.calibrate import precision_recall
from vgssl_ros.eval.frame_log import ScoredFrames
from vgssl_ros.eval.plots import figure, save_figure
from vgssl_ros.geo import EVAL_RADIUS_M


def plot_precision_recall(frames: dict[str, ScoredFrames], out: Path, title: str) -> Path:
    """One precision-recall curve per mode (answer only when the score exceeds a threshold)."""
    plt = figure()
    fig, ax = plt.subplots(figsize=(5, 4))
    for mode, scored in frames.items():
        _, precision, recall = precision_recall(scored)
        ax.plot(recall, precision, label=mode)
    ax.set_xlabel("recall (correct answers / frames)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title)
    return save_figure(fig, plt, out)


def plot_reliability(frames: dict[str, ScoredFrames], out: Path, title: str, bins: int = 10) -> Path:
    """Fraction correct against calibrated probability, per probability bin (diagonal = calibrated)."""
    plt = figure()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], ":", c="0.5")
    edges = np.linspace(0, 1, bins + 1)
    for mode, scored in frames.items():
        which = np.clip(np.digitize(scored.probabilities, edges) - 1, 0, bins - 1)
        correct = scored.errors_m <= EVAL_RADIUS_M
        xs = [scored.probabilities[which == b].mean() for b in range(bins) if (which == b).any()]
        ys = [correct[which == b].mean() for b in range(bins) if (which == b).any()]
        ax.plot(xs, ys, marker="o", label=mode)
    ax.set_xlabel("reported probability of being correct")
    ax.set_ylabel("fraction correct")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title)
    return save_figure(fig, plt, out)
