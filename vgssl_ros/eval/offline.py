"""Offline evaluation: every frame of a recorded drive through LocalizerCore, no ROS needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vgssl_ros.bags import read_drive
from vgssl_ros.core.localizer import FrameResult, LocalizerCore
from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.geo import latlon_to_utm
from vgssl_ros.io.progress import Progress


def localize_drive(
    core: LocalizerCore,
    bag: str | Path,
    image_topic: str,
    fix_topic: str,
    progress: bool = True,
    on_frame: Callable[[np.ndarray, FrameResult, float], None] | None = None,
) -> tuple[DriveOutcome, dict[str, int]]:
    """Run the core on each image of ``bag`` that has a ground-truth fix, in bag order with its stamp;
    returns the single-frame outcomes and skip counts. ``on_frame(gt_utm [2], result, stamp_s)`` sees every frame."""
    drive = read_drive(bag, image_topic, fix_topic)
    gt, est, accepted, candidates, latency = [], [], [], [], []
    for frame in Progress("localizing", "frames", quiet=not progress).wrap(drive.frames()):
        t0 = time.perf_counter()
        result = core.localize_rgb(frame.load(), frame.stamp)
        latency.append((time.perf_counter() - t0) * 1e3)
        gt.append(latlon_to_utm(frame.latlon[:1], frame.latlon[1:], core.map.zone)[0][0])  # map's zone
        if on_frame is not None:
            on_frame(gt[-1], result, frame.stamp)
        est.append(result.estimate.position)
        accepted.append(result.estimate.accepted)
        row = np.full(core.settings.top_k, -1, np.int64)
        row[: len(result.candidates)] = result.candidates
        candidates.append(row)
    if not gt:
        raise ValueError(
            f"{bag}: no image on {image_topic} has a ground-truth fix "
            f"(skipped: {drive.skipped}); check --image-topic/--fix-topic and the fix times"
        )
    outcome = DriveOutcome(
        np.array(gt), np.array(est), np.array(accepted, bool), np.stack(candidates), np.array(latency)
    )
    return outcome, dict(drive.skipped)
