"""Write a VPR-layout dataset from drives: the first drive is the database, the others are queries; splits are
stretches of the database route. The output folder is built beside ``out`` and renamed: complete or absent."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.datasets import format_vpr_name
from vgssl_ros.geo import UtmZone, latlon_to_utm
from vgssl_ros.io import atomic_dir, write_json_atomic
from vgssl_train.drives.frames import DriveFrames, DriveOptions, read_drive_frames
from vgssl_train.drives.splits import (
    BORDER_M,
    SPLIT_NAMES,
    near_other_split,
    nearest,
    route_distance,
    split_by_distance,
)

DATASET_JSON = "dataset.json"
FORMAT_VERSION = 1
SCRATCH = ".frames"


def build_dataset(
    drives: list[str | Path],
    out: str | Path,
    options: DriveOptions | None = None,
    fractions: tuple[float, float, float] = (60.0, 15.0, 25.0),
    database_only: bool = False,
    overwrite: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Write ``out/images/{train,val,test}/{database,queries}/`` (or, ``database_only``, every drive's frames in
    ``out/database/``) and ``out/dataset.json`` from the rosbag2 ``drives`` (the first is the database); returns
    dataset.json's contents; ``options`` default to DriveOptions(). Raises ValueError (BagError) with what to
    fix for unusable input."""
    options = options or DriveOptions()
    paths = [Path(d) for d in drives]
    _check_drives(paths, database_only)
    if len(fractions) != len(SPLIT_NAMES):
        raise ValueError(f"--splits takes {len(SPLIT_NAMES)} numbers ({', '.join(SPLIT_NAMES)}), e.g. 60 15 25")
    split_by_distance(np.zeros(1), fractions)  # validates the fractions before any bag is read
    with atomic_dir(out, overwrite=overwrite) as tmp:
        read = [read_drive_frames(p, tmp / SCRATCH / str(k), options, quiet) for k, p in enumerate(paths)]
        zone = read[0].zone
        utm = [latlon_to_utm(d.latlon[:, 0], d.latlon[:, 1], zone)[0] for d in read]  # one zone: the database's
        if database_only:
            placed = [np.zeros(len(d.stamps), np.int64) for d in read]
            info = _describe(read, options, fractions, zone, database_only, placed, {})
            for k, d in enumerate(read):
                _move(d, k, utm[k], zone, placed[k] >= 0, tmp / "database")
            info["counts"] = {"database": sum(len(d.stamps) for d in read)}
        else:
            split, route_m = _assign_splits(read, utm, fractions)
            info = _describe(read, options, fractions, zone, database_only, split, {"database_route_m": route_m})
            for k, d in enumerate(read):
                role = "database" if k == 0 else "queries"
                for s, name in enumerate(SPLIT_NAMES):
                    _move(d, k, utm[k], zone, split[k] == s, tmp / "images" / name / role)
            info["counts"] = {k: {"database": db, "queries": q} for k, (db, q) in _counts(split).items()}
        shutil.rmtree(tmp / SCRATCH)
        write_json_atomic(tmp / DATASET_JSON, info)
    return info


def _check_drives(paths: list[Path], database_only: bool) -> None:
    """Refuse repeated drives, and a database without queries unless ``database_only``."""
    if not paths:
        raise ValueError("no drives given; pass --drive BAG at least once")
    repeated = sorted({str(p) for p in paths if paths.count(p) > 1})
    if repeated:
        raise ValueError(f"drive {repeated[0]} is given twice; each drive is one traversal, pass it once")
    if len(paths) == 1 and not database_only:
        raise ValueError(
            f"one drive only ({paths[0]}): training needs a database drive and at least one query drive of the same "
            f"route (another traversal); pass a second --drive, or --database-only to write map images"
        )


def _assign_splits(
    read: list[DriveFrames], utm: list[np.ndarray], fractions: tuple[float, ...]
) -> tuple[list[np.ndarray], float]:
    """Split index per kept frame of each drive (-1: dropped) and the database route's length in metres.

    Database frames take the stretch of the route they lie on; query frames the split of their nearest database
    frame (none within BORDER_M: off the route, dropped); then every frame within BORDER_M of a frame of another
    split is dropped."""
    along = route_distance(utm[0])
    split = [split_by_distance(along, fractions)]
    for k in range(1, len(read)):
        idx, dist = nearest(utm[k], utm[0])
        if dist.min() >= BORDER_M:
            raise ValueError(
                f"drive {read[k].path} never comes within {BORDER_M:g} m of the database drive {read[0].path} "
                f"(closest {dist.min():.0f} m): no query has a positive; drive the same route as the database"
            )
        split.append(np.where(dist < BORDER_M, split[0][idx], -1))
        read[k].skipped["off_route"] = int((dist >= BORDER_M).sum())
    every = np.concatenate(split)
    placed = np.flatnonzero(every >= 0)
    drop = np.zeros(len(every), bool)
    drop[placed] = near_other_split(np.concatenate(utm)[placed], every[placed])
    start = 0
    for k, s in enumerate(split):
        d = drop[start : start + len(s)]
        read[k].skipped["split_border"] = int(d.sum())
        s[d] = -1
        start += len(s)
    for name, (db, q) in _counts(split).items():
        if db == 0 or q == 0:
            raise ValueError(
                f"split {name} gets {db} database and {q} query frames after dropping the frames within {BORDER_M:g} "
                f"m of a split border (database route {along[-1]:.0f} m): drive a longer route or change --splits"
            )
    return split, float(along[-1])


def _counts(split: list[np.ndarray]) -> dict[str, tuple[int, int]]:
    """(database, queries) frames of each split."""
    db = split[0]
    q = np.concatenate(split[1:]) if len(split) > 1 else np.zeros(0, np.int64)
    return {name: (int((db == s).sum()), int((q == s).sum())) for s, name in enumerate(SPLIT_NAMES)}


def _move(d: DriveFrames, k: int, utm: np.ndarray, zone: UtmZone, keep: np.ndarray, folder: Path) -> None:
    """Rename the scratch JPEGs of drive ``k`` selected by ``keep`` [N] into ``folder`` under their VPR names
    (position in ``zone``; frame id, heading and capture time in the fields after lat/lon)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in np.flatnonzero(keep):
        heading = f"{round(float(d.heading[i]), 1) % 360:.1f}" if np.isfinite(d.heading[i]) else ""
        # pano id, tile, heading, pitch, roll, height, timestamp, note: the VPR-datasets fields after lat/lon.
        extra = (f"d{k}f{i:06d}", "", heading, "", "", "", f"{d.stamps[i]:.3f}", f"drive{k}")
        name = format_vpr_name(utm[i, 0], utm[i, 1], zone, d.latlon[i, 0], d.latlon[i, 1], extra)
        d.files[i].rename(folder / name)


def _describe(
    read: list[DriveFrames],
    options: DriveOptions,
    fractions: tuple[float, ...],
    zone: UtmZone,
    database_only: bool,
    split: list[np.ndarray],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """dataset.json without its counts: source bags with roles, topics, options, and what was skipped and why."""
    total = float(sum(fractions))
    return {
        "format_version": FORMAT_VERSION,
        "created": {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "tool": "vgssl-train dataset"},
        "topics": {"image": options.image_topic, "fix": options.fix_topic},
        "options": {
            "max_fix_gap_s": options.max_fix_gap_s,
            "max_fix_std_m": options.max_fix_std_m,
            "min_spacing_m": options.min_spacing_m,
            "size": list(options.size) if options.size else None,
            "max_side": options.max_side,
            "jpeg_quality": options.jpeg_quality,
            "database_only": database_only,
            **({} if database_only else {"splits": {n: f / total for n, f in zip(SPLIT_NAMES, fractions)}}),
            **({} if database_only else {"split_border_m": BORDER_M}),
        },
        "utm_zone": str(zone),
        **extra,
        "drives": [
            {
                "path": str(d.path.resolve()),
                "role": "database" if k == 0 or database_only else "queries",
                "utm_zone": str(d.zone),
                "images": d.images,
                "kept": int((split[k] >= 0).sum()),
                "skipped": d.skipped,
                "fixes_without_covariance": d.fixes_without_covariance,
            }
            for k, d in enumerate(read)
        ],
    }
