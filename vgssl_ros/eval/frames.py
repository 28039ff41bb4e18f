"""Per-frame records of a scored drive (offline or live) and OUT/frames.csv, one row per frame with ground truth.

Columns (metres in UTM of the map's zone; empty cell = not known, e.g. the answer a live run did not see):

    stamp_s                   image header stamp (s)
    gt_east, gt_north         ground-truth position (UTM m), gt_lat, gt_lon (deg)
    gnss_error_m              the drive's GNSS fix (--gnss-topic) distance to the truth, where the bag has one
    filter_status             the temporal filter's status after the frame (tracking, lost, ...; empty: no filter)
    then for MODE in single, filtered:
    MODE_east, MODE_north     the answer's position (published or, when rejected, the best guess)
    MODE_error_m              its distance to the truth
    MODE_status               'accepted', or why it was rejected (published as STATUS_NO_FIX)
    MODE_score                raw score (single: top-1 similarity, filtered: belief confidence)
    MODE_probability          calibrated probability that the answer is right
    MODE_ellipse95_major_m    semi-axes (m) of the published 95 % error ellipse, and the compass heading (deg,
    MODE_ellipse95_minor_m    0..180) of its major axis
    MODE_ellipse95_heading_deg
    MODE_place, MODE_place_image  the map place the answer rests on and its source image id (single: the top-1 place)
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vgssl_ros.eval.robustness import robustness_metrics
from vgssl_ros.geo import UtmZone, utm_to_latlon
from vgssl_ros.io import atomic_path

CHI2_2DOF_95 = -2.0 * np.log(0.05)
"""Squared Mahalanobis radius of the 2-D 95 % ellipse (chi-square, 2 degrees of freedom): 5.991."""
MODE_COLUMNS = (
    "east",
    "north",
    "error_m",
    "status",
    "score",
    "probability",
    "ellipse95_major_m",
    "ellipse95_minor_m",
    "ellipse95_heading_deg",
    "place",
    "place_image",
)
MODES = ("single", "filtered")
COLUMNS = (
    "stamp_s",
    "gt_east",
    "gt_north",
    "gt_lat",
    "gt_lon",
    "gnss_error_m",
    "filter_status",
    *(f"{m}_{c}" for m in MODES for c in MODE_COLUMNS),
)
FRAMES_CSV = "frames.csv"
ACCEPTED = "accepted"


@dataclass
class ModeFrames:
    """One mode's answer per frame: ``position`` [N, 2], ``accepted`` [N], ``status`` [N] ('accepted' or the
    rejection reason), ``score`` [N], ``probability`` [N] (NaN unknown), published ``covariance`` [N, 2, 2]
    (NaN unknown), ``place`` [N] (-1 unknown)."""

    position: np.ndarray
    accepted: np.ndarray
    status: list[str]
    score: np.ndarray
    probability: np.ndarray
    covariance: np.ndarray
    place: np.ndarray

    def errors_m(self, gt_utm: np.ndarray) -> np.ndarray:
        """Distance [N] to the truth ``gt_utm`` [N, 2] (NaN where no position)."""
        return np.linalg.norm(self.position - gt_utm, axis=1)

    def correct(self, gt_utm: np.ndarray, radius_m: float) -> np.ndarray:
        """[N] bool: published and within ``radius_m`` of the truth."""
        with np.errstate(invalid="ignore"):
            return self.accepted & (self.errors_m(gt_utm) <= radius_m)


@dataclass
class DriveFrames:
    """A scored drive frame by frame: ``stamps`` [N] s, ``gt_utm`` [N, 2] in ``zone``, the answers of each mode
    that was seen, ``filter_status`` [N] ('' without a filter) and ``gnss_utm`` [N, 2] (NaN where none; None when
    the bag has no GNSS beside its ground truth)."""

    stamps: np.ndarray
    gt_utm: np.ndarray
    zone: UtmZone
    modes: dict[str, ModeFrames]
    filter_status: list[str] = field(default_factory=list)
    gnss_utm: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.stamps)

    def robustness(self, mode: str, radius_m: float) -> dict[str, float]:
        """`robustness_metrics` of ``mode``'s answers (correct: within ``radius_m``)."""
        m = self.modes[mode]
        return robustness_metrics(
            m.accepted, m.correct(self.gt_utm, radius_m), m.probability, self.stamps, gt_utm=self.gt_utm
        )


def ellipse95(covariance: np.ndarray) -> tuple[float, float, float]:
    """Covariance [2, 2] (east, north) -> 95 % ellipse semi-axes (major, minor m) and the major axis's compass
    heading (deg, 0..180); NaNs for an unknown (non-finite) covariance."""
    cov = np.asarray(covariance, float)
    if not np.isfinite(cov).all():
        return math.nan, math.nan, math.nan
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    major, minor = np.sqrt(CHI2_2DOF_95 * np.clip(values[::-1], 0.0, None))
    east, north = vectors[:, 1]
    return float(major), float(minor), float(np.degrees(np.arctan2(east, north)) % 180.0)


def write_frames_csv(path: str | Path, frames: DriveFrames, place_ids: np.ndarray) -> Path:
    """Write ``frames`` as frames.csv (see the module docstring) atomically; ``place_ids`` [P]: the map's ids."""
    path = Path(path)
    latlon = utm_to_latlon(frames.gt_utm, frames.zone)
    gnss_err = (
        np.linalg.norm(frames.gnss_utm - frames.gt_utm, axis=1)
        if frames.gnss_utm is not None
        else np.full(len(frames), np.nan)
    )
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i in range(len(frames)):
            row = [f"{frames.stamps[i]:.9f}", _num(frames.gt_utm[i, 0], 3), _num(frames.gt_utm[i, 1], 3)]
            row += [_num(latlon[i, 0], 8), _num(latlon[i, 1], 8), _num(gnss_err[i], 2)]
            row.append(frames.filter_status[i] if frames.filter_status else "")
            for mode in MODES:
                row += _mode_cells(frames, mode, i, place_ids)
            writer.writerow(row)
    return path


def _mode_cells(frames: DriveFrames, mode: str, i: int, place_ids: np.ndarray) -> list[str]:
    if mode not in frames.modes:
        return [""] * len(MODE_COLUMNS)
    m = frames.modes[mode]
    east, north = m.position[i]
    place = int(m.place[i])
    return [
        _num(east, 3),
        _num(north, 3),
        _num(float(np.hypot(east - frames.gt_utm[i, 0], north - frames.gt_utm[i, 1])), 2),
        m.status[i],
        _num(m.score[i], 4),
        _num(m.probability[i], 4),
        *(_num(v, 2) for v in ellipse95(m.covariance[i])),
        str(place) if place >= 0 else "",
        str(place_ids[place]) if 0 <= place < len(place_ids) else "",
    ]


def _num(value: float, digits: int) -> str:
    """A number with ``digits`` decimals; '' for NaN (unknown)."""
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def read_frames_csv(path: str | Path) -> list[dict[str, str]]:
    """The rows of a frames.csv (column -> cell text); ValueError naming the file when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"{path} does not exist: evaluate the drive with this vgssl-eval first (it writes {FRAMES_CSV})"
        )
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("stamp_s", "single_status", "filtered_status") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} is not a vgssl-eval {FRAMES_CSV} (no column {missing[0]}); evaluate again")
        return list(reader)
