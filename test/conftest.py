"""Shared fixtures: small geo-tagged datasets the tests make, and the real data where it exists."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vgssl_ros.datasets import format_vpr_name
from vgssl_ros.geo import UtmZone, utm_to_latlon

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
NORDLAND = SHARED_DATA / "nordland64"

ZONE = UtmZone(33, "W")
ORIGIN = np.array([450000.0, 7250000.0])


def vpr_name(east: float, north: float, zone: UtmZone = ZONE, tag: str = "x") -> str:
    """A VPR-layout file name for a position."""
    lat, lon = utm_to_latlon(np.array([[east, north]]), zone)[0]
    return format_vpr_name(east, north, zone, lat, lon, (tag,), ext=".png")


def place_image(place: int, height: int = 32, width: int = 64, variant: int = 0) -> np.ndarray:
    """A distinctive RGB image per place: coloured bars and discs from the place's own random draw.

    ``variant`` > 0 gives another view of the same place: shifted a few pixels, with other lighting.
    """
    rng = np.random.default_rng(1000 + place)
    scale = 4
    h, w = height * scale, width * scale
    img = np.zeros((h, w, 3), np.float32) + rng.uniform(40, 200, 3)
    for _ in range(6):
        x0, y0 = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            cv2.rectangle(
                img, (x0, y0), (x0 + int(rng.uniform(w / 10, w / 3)), y0 + int(rng.uniform(h / 5, h))), colour, -1
            )
        else:
            cv2.circle(img, (x0, y0), int(rng.uniform(h / 8, h / 3)), colour, -1)
    if variant:
        vr = np.random.default_rng(variant * 7919 + place)
        shift = np.float32([[1, 0, vr.uniform(-2, 2) * scale], [0, 1, vr.uniform(-1, 1) * scale]])
        img = cv2.warpAffine(img, shift, (w, h), borderMode=cv2.BORDER_REFLECT)
        img = img * vr.uniform(0.8, 1.1) + vr.uniform(-15, 15)
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_vpr_dataset(
    root: Path,
    places: int = 12,
    spacing_m: float = 40.0,
    splits: tuple[str, ...] = ("train", "val", "test"),
    query_offset_m: float = 0.0,
) -> Path:
    """A tiny VPR-layout dataset: each place once in the database and once, seen anew, in the queries.

    ``query_offset_m`` moves every query east by that distance from its database image.
    """
    for split_i, split in enumerate(splits):
        for role in ("database", "queries"):
            folder = root / "images" / split / role
            folder.mkdir(parents=True, exist_ok=True)
            for p in range(places):
                place = split_i * 1000 + p
                east, north = ORIGIN + [query_offset_m if role == "queries" else 0.0, place * spacing_m]
                img = place_image(place, variant=1 if role == "queries" else 0)
                cv2.imwrite(
                    str(folder / vpr_name(east, north, tag=f"{place:05d}")), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
                )
    return root


@pytest.fixture
def vpr_dataset(tmp_path: Path) -> Path:
    """A tiny VPR-layout dataset in a temporary folder."""
    return write_vpr_dataset(tmp_path / "ds")


@pytest.fixture
def nordland() -> Path:
    """The real Nordland64 data beside the checkout; skips where it is absent."""
    if not (NORDLAND / "images").is_dir():
        pytest.skip(f"real data not present at {NORDLAND} (it lives in ../shared beside the checkout)")
    return NORDLAND


@pytest.fixture(scope="session")
def session_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny VPR-layout dataset shared by the whole session (read-only for tests)."""
    return write_vpr_dataset(tmp_path_factory.mktemp("session") / "ds")


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory: pytest.TempPathFactory, session_dataset: Path) -> Path:
    """An exported ImageNet EfficientNet-Lite0 + GeM model.onnx for 32x64 uint8 RGB (dim 1280)."""
    from vgssl_train.cli import main

    out = tmp_path_factory.mktemp("model") / "model.onnx"
    rc = main(
        [
            "export",
            "--resize",
            "32",
            "64",
            "--out",
            str(out),
            "--parity-images",
            str(session_dataset / "images" / "val"),
            "--parity-count",
            "8",
        ]
    )
    assert rc == 0 and out.is_file()
    return out
