"""What a robotics engineer acts on, for every evaluation (offline and live): frames.csv, the robot metrics per mode
(acquisition, wrong streaks, recovery, confidently wrong; GNSS beside them) and a failure gallery per mode."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.core.map import Map
from vgssl_ros.eval.failures import WORST_STRETCHES, plot_failures, worst_stretches
from vgssl_ros.eval.frames import FRAMES_CSV, DriveFrames, write_frames_csv
from vgssl_ros.eval.gnss import gnss_metrics
from vgssl_ros.eval.place_images import place_image_loader
from vgssl_ros.geo import EVAL_RADIUS_M


@dataclass(frozen=True)
class DriveRecords:
    """What `write_drive_records` wrote: metrics.json ``sections`` (robustness, gnss, frames_csv), per mode the
    failure ``stretches`` (first, last frame) for the route plot and the gallery's path in ``plots``."""

    sections: dict[str, Any]
    stretches: dict[str, list[tuple[int, int]]]
    plots: dict[str, dict[str, str]]


def write_drive_records(
    frames: DriveFrames,
    geo_map: Map,
    query_images: Callable[[Iterable[float]], dict[float, np.ndarray]],
    folders: dict[str, Path],
    title: str,
    gnss_topic: str = "",
    radius_m: float = EVAL_RADIUS_M,
    worst: int = WORST_STRETCHES,
    activations: Callable[[list[np.ndarray]], np.ndarray] | None = None,
) -> DriveRecords:
    """Write ``folders['single']``/frames.csv and, for each mode in ``frames``, failures.png (its ``worst`` longest
    wrong stretches) into ``folders[mode]``; ``query_images(stamps)`` reads the drive's frames at those stamps;
    ``activations`` (Embedder.activations of a model exported with `--activation`, or None) lays the model's
    activation maps over the gallery's pictures."""
    csv_path = write_frames_csv(folders["single"] / FRAMES_CSV, frames, geo_map.places.ids)
    sections: dict[str, Any] = {
        "frames_csv": str(csv_path),
        "robustness": {m: frames.robustness(m, radius_m) for m in frames.modes},
    }
    if frames.gnss_utm is not None:
        sections["gnss"] = gnss_metrics(frames.gnss_utm, frames.gt_utm, gnss_topic)
    found = {m: worst_stretches(frames, m, radius_m, worst) for m in frames.modes}
    queries = query_images(sorted({float(frames.stamps[s.worst]) for ss in found.values() for s in ss}))
    loader = place_image_loader(geo_map)
    plots = {
        m: {
            "failures": str(
                plot_failures(
                    frames,
                    m,
                    ss,
                    queries,
                    loader,
                    geo_map.places.ids,
                    geo_map.places.utm,
                    folders[m] / "failures.png",
                    f"{title} ({m})" if m != "single" else title,
                    activations,
                )
            )
        }
        for m, ss in found.items()
    }
    stretches = {m: [(s.first, s.last) for s in ss] for m, ss in found.items()}
    return DriveRecords(sections, stretches, plots)
