"""PNG plots of a scored drive, every answer (single-frame, filtered) in the same figures: trajectory (one panel
per answer, shared axes), Recall@N curves and error CDFs (one curve per answer). matplotlib, headless."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.geo import EVAL_RADIUS_M, neighbours_within
from vgssl_ros.io import atomic_path

LABELS = {"single": "single-frame", "filtered": "filtered"}
"""Mode -> how the figures name it."""
MAX_ASPECT = 3.0
"""A route's plotted box is at most this many times longer than wide: a straight route keeps a readable panel
(the short side is padded, metres stay equal on both axes)."""
PANEL_INCHES = 7.0
"""The long side of one trajectory panel."""
KM_ABOVE_M = 5000.0
"""Routes longer than this are drawn in kilometres."""
COLOURS = {"single": "tab:blue", "filtered": "tab:orange"}
"""As in precision_recall.png and reliability.png."""


def figure():
    """matplotlib.pyplot with the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def drive_title(bag: str | Path, geo_map: str | Path, suffix: str = "") -> str:
    """``BAG vs MAP`` by folder names (not absolute paths), e.g. 'drive1 vs map_summer (live)'."""
    name = f"{_folder_name(bag)} vs {_folder_name(geo_map)}"
    return f"{name} ({suffix})" if suffix else name


def _folder_name(path: str | Path) -> str:
    p = Path(path)
    return p.name or p.resolve().name or str(p)


def write_plots(
    outcomes: Mapping[str, DriveOutcome],
    places_utm: np.ndarray,
    out: Path,
    title: str,
    stretches: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    labels: Mapping[str, str] | None = None,
    ranked: Sequence[str] | None = None,
    radius_m: float = EVAL_RADIUS_M,
) -> dict[str, str]:
    """Write OUT/trajectory.png, recall.png and error_cdf.png with every mode of ``outcomes``; ``ranked``: the modes
    whose candidates are their own ranking (default all) get a Recall@N curve. Returns {plot: path}."""
    names = {m: (labels or {}).get(m, LABELS.get(m, m)) for m in outcomes}
    ranked_outcomes = {m: outcomes[m] for m in (ranked if ranked is not None else outcomes)}
    return {
        "trajectory": str(
            plot_trajectory(outcomes, places_utm, out / "trajectory.png", title, radius_m, stretches or {}, names)
        ),
        "recall": str(plot_recall_curve(ranked_outcomes, places_utm, out / "recall.png", title, radius_m, names)),
        "error_cdf": str(plot_error_cdf(outcomes, out / "error_cdf.png", title, radius_m, names)),
    }


def route_limits(points: np.ndarray, max_aspect: float = MAX_ASPECT, margin: float = 0.05) -> np.ndarray:
    """x and y limits [2, 2] (rows: x, y; columns: low, high) around ``points`` [N, 2] with a margin, the shorter
    side padded so the box is at most ``max_aspect`` times longer than wide."""
    low, high = np.nanmin(points, axis=0), np.nanmax(points, axis=0)
    span = np.maximum(high - low, 1.0) * (1 + 2 * margin)
    span = np.maximum(span, span.max() / max_aspect)
    centre = (low + high) / 2
    return np.stack([centre - span / 2, centre + span / 2], axis=1)


def plot_trajectory(
    outcomes: Mapping[str, DriveOutcome],
    places_utm: np.ndarray,
    out: Path,
    title: str,
    radius_m: float = EVAL_RADIUS_M,
    stretches: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """One panel per mode, shared axes: map places, ground truth, estimates coloured correct / wrong / rejected;
    the mode's failure ``stretches`` (first, last frame) marked #1, #2, ... (its failure gallery's rows). A wide
    route stacks the panels, a tall one puts them side by side; legends sit outside the data."""
    plt = figure()
    origin = places_utm.min(axis=0)
    first = next(iter(outcomes.values()))
    limits = route_limits(np.vstack([places_utm - origin, first.gt_utm - origin]))
    width, height = limits[:, 1] - limits[:, 0]
    unit, scale = ("km", 1e-3) if max(width, height) > KM_ABOVE_M else ("m", 1.0)
    wide = width >= height
    n = len(outcomes)
    panel = (PANEL_INCHES, PANEL_INCHES * height / width) if wide else (PANEL_INCHES * width / height, PANEL_INCHES)
    size = (panel[0], n * panel[1] * 1.25) if wide else (n * panel[0] * 1.12, panel[1])  # legends: outside, tight
    fig, axes = plt.subplots(n if wide else 1, 1 if wide else n, figsize=size, sharex=True, sharey=True, squeeze=False)
    fig.subplots_adjust(hspace=0.25, wspace=0.12)
    for ax, (mode, outcome) in zip(axes.reshape(-1), outcomes.items()):
        shifted = DriveOutcome(
            (outcome.gt_utm - origin) * scale,
            (outcome.est_utm - origin) * scale,
            outcome.accepted,
            outcome.candidates,
            outcome.latency_ms,
        )
        _route_panel(ax, shifted, (places_utm - origin) * scale, radius_m * scale, (stretches or {}).get(mode, ()))
        ax.set_xlim(*limits[0] * scale)
        ax.set_ylim(*limits[1] * scale)
        ax.set_aspect("equal", adjustable="box")
        ax.set_title((labels or {}).get(mode, LABELS.get(mode, mode)), fontsize=10)
        if ax is axes[0, 0] or wide:
            ax.set_ylabel(f"north ({unit})")
        if ax is axes[-1, -1] or not wide:
            ax.set_xlabel(f"east ({unit})")
        if wide:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8)
        else:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), borderaxespad=0, fontsize=8)
    for ax in axes.reshape(-1):
        ax.apply_aspect()  # the equal aspect shrinks the panels: put the title just above where they end up
    top = max(ax.get_position().y1 for ax in axes.reshape(-1))
    fig.suptitle(
        f"{title}\neast/north relative to ({origin[0]:.0f}, {origin[1]:.0f}) UTM m",
        fontsize=10,
        y=top + 0.35 / size[1],
        va="bottom",
    )
    return save_figure(fig, plt, out)


def _route_panel(ax, outcome: DriveOutcome, places: np.ndarray, radius: float, stretches) -> None:
    """One mode's route on ``ax`` (positions already relative to the origin, in the plot's unit; ``radius`` too)."""
    ax.scatter(*places.T, s=4, c="0.8", label="map places", zorder=1)
    ax.plot(*outcome.gt_utm.T, "-", c="k", lw=1, label="ground truth", zorder=2)
    err = outcome.errors_m()
    has = np.isfinite(err)
    groups = {
        "correct": outcome.accepted & has & (err <= radius),
        "wrong": outcome.accepted & has & (err > radius),
        "rejected": ~outcome.accepted & has,
    }
    for (name, mask), colour in zip(groups.items(), ("tab:green", "tab:red", "tab:orange")):
        ax.scatter(*outcome.est_utm[mask].T, s=10, c=colour, label=f"{name} ({int(mask.sum())})", zorder=3)
    for k, (first, last) in enumerate(stretches, start=1):
        route = outcome.gt_utm[first : last + 1]
        label = "failure stretches" if k == 1 else None
        ax.plot(*route.T, "-", c="tab:purple", lw=6, alpha=0.35, label=label, zorder=1.5)
        ax.annotate(f"#{k}", route[0], fontsize=9, color="tab:purple", weight="bold", zorder=4)


def plot_recall_curve(
    outcomes: Mapping[str, DriveOutcome],
    places_utm: np.ndarray,
    out: Path,
    title: str,
    radius_m: float = EVAL_RADIUS_M,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Recall@N for N = 1..K, one curve per mode (its own ranking of the places)."""
    from vgssl_ros.metrics import recall_at_n

    plt = figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, outcome in outcomes.items():
        k = outcome.candidates.shape[1]
        positives = neighbours_within(outcome.gt_utm, places_utm, radius_m)
        recall = recall_at_n(outcome.candidates, positives, range(1, k + 1))
        label = (labels or {}).get(mode, LABELS.get(mode, mode))
        ax.plot(list(recall), list(recall.values()), marker="o", ms=4, c=COLOURS.get(mode), label=label)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("N (best-ranked places)")
    ax.set_ylabel(f"Recall@N (%), {radius_m:g} m")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8)
    return save_figure(fig, plt, out)


def plot_error_cdf(
    outcomes: Mapping[str, DriveOutcome],
    out: Path,
    title: str,
    radius_m: float = EVAL_RADIUS_M,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Cumulative distribution of the position errors of accepted answers, as a fraction of all frames (so a
    curve ends at the answered fraction), one curve per mode; the radius that counts as correct is marked."""
    plt = figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    largest = radius_m
    for mode, outcome in outcomes.items():
        errors = outcome.errors_m()
        err = np.sort(errors[outcome.accepted & np.isfinite(errors)])
        label = (labels or {}).get(mode, LABELS.get(mode, mode))
        if err.size:
            largest = max(largest, float(err[-1]))
            fraction = np.arange(1, err.size + 1) / len(outcome.gt_utm)
            ax.step(np.r_[0.0, err], np.r_[0.0, fraction], where="post", c=COLOURS.get(mode), label=label)
        else:
            ax.plot([], [], c=COLOURS.get(mode), label=f"{label} (no accepted answer)")
    ax.axvline(radius_m, ls=":", c="0.5", label=f"{radius_m:g} m (correct)")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, largest * 1.5)
    ax.set_xlabel("position error (m)")
    ax.set_ylabel("fraction of frames")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8)
    return save_figure(fig, plt, out)


def save_figure(fig, plt, out: Path) -> Path:
    """Write ``fig`` as a PNG to ``out`` atomically and close it."""
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return out
