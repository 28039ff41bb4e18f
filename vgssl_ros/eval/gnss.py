"""The GNSS baseline: where the drive's own GNSS put the robot at each frame, beside the visual answers.

Only a drive that records GNSS *and* a separate ground truth has one (the simulator's drives: --fix-topic
/ground_truth/fix, GNSS on /gnss/fix); when the ground truth is the GNSS itself there is nothing to compare.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vgssl_ros.bags import open_bag, read_drive
from vgssl_ros.bags.reader import FIX_TYPE
from vgssl_ros.geo import UtmZone, latlon_to_utm, utm_to_latlon


def gnss_at(
    bag: str | Path,
    image_topic: str,
    fix_topic: str,
    gnss_topic: str,
    stamps_s: np.ndarray,
    zone: UtmZone,
    max_gap_s: float = 1.0,
) -> np.ndarray | None:
    """GNSS positions [N, 2] (UTM in ``zone``) interpolated at ``stamps_s`` [N], NaN where the track has a gap;
    None when ``gnss_topic`` is the ground truth ``fix_topic`` or the bag has no NavSatFix on it."""
    if gnss_topic == fix_topic:
        return None
    with open_bag(Path(bag)) as reader:
        if not any(c.topic == gnss_topic and c.msgtype == FIX_TYPE for c in reader.connections):
            return None
    track = read_drive(bag, image_topic, gnss_topic, max_gap_s).track
    out = np.full((len(stamps_s), 2), np.nan)
    for i, stamp in enumerate(stamps_s):
        utm = track.at(float(stamp), max_gap_s)
        if utm is not None:
            latlon = utm_to_latlon(utm[None], track.zone)[0]
            out[i] = latlon_to_utm(latlon[:1], latlon[1:], zone)[0][0]
    return out


def gnss_metrics(gnss_utm: np.ndarray, gt_utm: np.ndarray, topic: str) -> dict[str, float | int | str]:
    """Median and 90th percentile distance (m) of the GNSS fixes [N, 2] to the truth [N, 2], frames with a fix."""
    errors = np.linalg.norm(gnss_utm - gt_utm, axis=1)
    errors = errors[np.isfinite(errors)]
    return {
        "topic": topic,
        "frames": int(errors.size),
        "error_median_m": float(np.median(errors)) if errors.size else float("nan"),
        "error_p90_m": float(np.percentile(errors, 90)) if errors.size else float("nan"),
    }
