"""GeoSplit: a split's database and queries, positives by radius, and the format registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vgssl_ros.datasets import DatasetError, GeoImages, read_csv_manifest, read_vpr_folder
from vgssl_ros.geo import neighbours_within
from vgssl_train.data.msls import read_msls_split

SPLITS = ("train", "val", "test")


@dataclass
class GeoSplit:
    """Database and query images of one split.

    ``db_region`` [Nd] / ``q_region`` [Nq] tell which region (city, UTM zone) each image is in:
    positions are comparable only inside a region. Single-area datasets have one region, 0.
    """

    database: GeoImages
    queries: GeoImages
    db_region: np.ndarray
    q_region: np.ndarray
    name: str = ""
    _cache: dict[float, list[np.ndarray]] = field(default_factory=dict, repr=False)

    def positives(self, radius_m: float) -> list[np.ndarray]:
        """Per query, the database indices within ``radius_m`` (same region), nearest first; cached."""
        if radius_m not in self._cache:
            out: list[np.ndarray] = [np.zeros(0, np.int64)] * len(self.queries)
            for region in np.unique(self.q_region):
                qi = np.nonzero(self.q_region == region)[0]
                di = np.nonzero(self.db_region == region)[0]
                for q, near in zip(qi, neighbours_within(self.queries.utm[qi], self.database.utm[di], radius_m)):
                    out[q] = di[near]
            self._cache[radius_m] = out
        return self._cache[radius_m]


def _single(database: GeoImages, queries: GeoImages, name: str) -> GeoSplit:
    return GeoSplit(database, queries, np.zeros(len(database), np.int64), np.zeros(len(queries), np.int64), name)


def _concat(parts: list[GeoImages]) -> tuple[GeoImages, np.ndarray]:
    """Concatenate per-region GeoImages; returns the merged images and the region of each."""
    merged = GeoImages(
        paths=[p for g in parts for p in g.paths],
        utm=np.concatenate([g.utm for g in parts]),
        zone=parts[0].zone,
        latlon=np.concatenate([g.latlon for g in parts]),
        heading=np.concatenate([g.heading for g in parts]),
        timestamp=np.concatenate([g.timestamp for g in parts]),
        ids=[i for g in parts for i in g.ids],
    )
    return merged, np.concatenate([np.full(len(g), k, np.int64) for k, g in enumerate(parts)])


def load_vpr_split(root: Path, split: str) -> GeoSplit:
    """``root/images/<split>/{database,queries}`` in the VPR-datasets layout."""
    base = root / "images" / split
    if not base.is_dir():
        raise DatasetError(
            f"split folder {base} does not exist; expected images/{{train,val,test}}/{{database,queries}}/"
        )
    return _single(read_vpr_folder(base / "database"), read_vpr_folder(base / "queries"), f"{root.name}/{split}")


def load_msls_split(root: Path, split: str) -> GeoSplit:
    """Mapillary SLS: train = every city but cph and sf, val = cph + sf."""
    database, db_region = _concat(read_msls_split(root, split, "database"))
    queries, q_region = _concat(read_msls_split(root, split, "queries"))
    return GeoSplit(database, queries, db_region, q_region, f"msls/{split}")


def load_csv_split(path: Path, split: str) -> GeoSplit:
    """A CSV manifest with 'split' and 'role' columns."""
    database = read_csv_manifest(path, where={"split": split, "role": "database"})
    queries = read_csv_manifest(path, where={"split": split, "role": "queries"})
    if database.zone != queries.zone:
        raise DatasetError(f"{path}: database and queries of split {split} lie in different UTM zones")
    return _single(database, queries, f"{path.stem}/{split}")


DATASET_FORMATS: dict[str, Callable[[Path, str], GeoSplit]] = {
    "vpr": load_vpr_split,
    "msls": load_msls_split,
    "csv": load_csv_split,
}


def detect_format(path: Path) -> str:
    """Guess the dataset format of ``path`` (a folder or a CSV file)."""
    if path.is_file() and path.suffix.lower() == ".csv":
        return "csv"
    if (path / "train_val").is_dir():
        return "msls"
    if (path / "images").is_dir():
        return "vpr"
    raise DatasetError(
        f"{path} is not a dataset: expected a VPR-datasets folder (images/<split>/...), an MSLS root "
        f"(train_val/<city>/...) or a CSV manifest (.csv)"
    )


def load_split(path: str | Path, split: str, fmt: str | None = None) -> GeoSplit:
    """Load ``split`` of the dataset at ``path``; ``fmt`` is a DATASET_FORMATS key or None to detect it."""
    path = Path(path)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    if not path.exists():
        raise DatasetError(f"dataset {path} does not exist")
    fmt = fmt or detect_format(path)
    if fmt not in DATASET_FORMATS:
        raise ValueError(f"unknown dataset format {fmt!r}; valid formats: {', '.join(DATASET_FORMATS)}")
    geo_split = DATASET_FORMATS[fmt](path, split)
    for role, images in (("database", geo_split.database), ("queries", geo_split.queries)):
        if len(images) == 0:
            raise DatasetError(f"{path}: split {split} has no {role} images")
    return geo_split
