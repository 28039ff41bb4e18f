"""Training/evaluation splits: VPR layout, Mapillary SLS raw layout, CSV manifests."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from test.conftest import place_image
from vgssl_ros.datasets import DatasetError
from vgssl_ros.geo import latlon_to_utm
from vgssl_train.data import ImageDataset, detect_format, load_split

CITIES = {
    "london": (51.5072, -0.1276),
    "melbourne": (-37.8136, 144.9631),
    "cph": (55.6761, 12.5683),
    "sf": (37.7749, -122.4194),
}


def write_msls(root: Path, per_city: int = 4) -> Path:
    """A small Mapillary SLS raw-layout fixture: 4 cities, query + database, one panorama to skip."""
    for c, (lat0, lon0) in enumerate(CITIES.items()):
        city, (lat0, lon0) = lat0, lon0
        for role in ("query", "database"):
            folder = root / "train_val" / city / role
            (folder / "images").mkdir(parents=True)
            lats = lat0 + np.arange(per_city + 1) * 0.001  # ~111 m apart
            lons = np.full(per_city + 1, lon0)
            en, _ = latlon_to_utm(lats, lons)
            raw_rows, post_rows = [], []
            for i in range(per_city + 1):
                key = f"{city}{role[0]}{i:03d}"
                pano = i == per_city
                raw_rows.append([i, key, f"{lons[i]:.7f}", f"{lats[i]:.7f}", 90.0, 1500000000000 + i * 1000, pano])
                post_rows.append([i, key, f"{en[i, 0]:.2f}", f"{en[i, 1]:.2f}", False, False, "Forward", 0])
                img = place_image(c * 100 + i, variant=1 if role == "query" else 0)
                cv2.imwrite(str(folder / "images" / f"{key}.jpg"), img)
            with (folder / "raw.csv").open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["", "key", "lon", "lat", "ca", "captured_at", "pano"])
                w.writerows(raw_rows)
            with (folder / "postprocessed.csv").open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(
                    ["", "key", "easting", "northing", "night", "control_panel", "view_direction", "unique_cluster"]
                )
                w.writerows(post_rows)
    return root


def test_vpr_split_and_positives(vpr_dataset):
    split = load_split(vpr_dataset, "train")
    assert len(split.database) == len(split.queries) == 12
    positives = split.positives(25.0)
    assert [list(p) for p in positives] == [[i] for i in range(12)]
    assert split.positives(25.0) is positives  # computed once
    assert all(len(p) == 3 for p in split.positives(45.0)[1:-1])


def test_msls_train_and_val_cities(tmp_path):
    root = write_msls(tmp_path / "msls")
    assert detect_format(root) == "msls"
    train = load_split(root, "train")
    val = load_split(root, "val")
    assert len(train.database) == 8 and len(val.queries) == 8  # panoramas skipped
    assert {p.split("/")[-4] for p in val.database.paths} == {"cph", "sf"}
    assert set(np.unique(val.q_region)) == {0, 1}
    # Each query's positive lies in its own city, at the same index there.
    assert [list(p) for p in val.positives(25.0)] == [[i] for i in range(8)]
    assert np.isfinite(train.database.timestamp).all()
    with pytest.raises(DatasetError, match="no public positions"):
        load_split(root, "test")


def test_msls_missing_csv_names_file(tmp_path):
    root = write_msls(tmp_path / "msls")
    (root / "train_val" / "sf" / "query" / "raw.csv").unlink()
    with pytest.raises(DatasetError, match="sf/query/raw.csv"):
        load_split(root, "val")


def test_csv_split(tmp_path):
    rows = ["image,utm_east,utm_north,utm_zone,utm_band,split,role"]
    for i in range(3):
        for role in ("database", "queries"):
            rows.append(f"{role}{i}.png,{450000 + 50 * i},7250000,33,W,val,{role}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    split = load_split(tmp_path / "m.csv", "val")
    assert [list(p) for p in split.positives(25.0)] == [[0], [1], [2]]
    with pytest.raises(DatasetError, match="no rows with split=train"):
        load_split(tmp_path / "m.csv", "train")


def test_bad_datasets(tmp_path, vpr_dataset):
    with pytest.raises(DatasetError, match="is not a dataset"):
        load_split(tmp_path, "test")
    with pytest.raises(ValueError, match="valid splits"):
        load_split(vpr_dataset, "holdout")
    with pytest.raises(ValueError, match="valid formats"):
        load_split(vpr_dataset, "test", "kitti")
    for f in (vpr_dataset / "images" / "val" / "queries").iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match="no images in .*val/queries"):
        load_split(vpr_dataset, "val")


def test_image_dataset_tensor(vpr_dataset):
    split = load_split(vpr_dataset, "test")
    x, i = ImageDataset(split.database.paths, 48, 96)[3]
    assert tuple(x.shape) == (3, 48, 96) and i == 3
    assert -3 < float(x.min()) < float(x.max()) < 3
