"""The pictures behind a scored frame: the query frame from the drive's bag, and a map place's source image.

A map stores no images: each place keeps its source image id and map.json ``created.source`` says where the
images came from (a VPR-layout folder, a CSV manifest or a bag). A place's image is read from there when it is
still on this machine; otherwise there is none and the gallery says "no image stored".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from vgssl_ros.bags import BagError, read_drive
from vgssl_ros.core.errors import DecodeError
from vgssl_ros.core.map import Map
from vgssl_ros.datasets import DatasetError
from vgssl_ros.datasets.images import load_rgb

STAMP_TOLERANCE_S = 1e-6
"""Two stamps within this are the same frame (stamps pass through float seconds)."""


def bag_images_at(
    bag: str | Path, image_topic: str, fix_topic: str, stamps_s: Iterable[float]
) -> dict[float, np.ndarray]:
    """Decoded RGB [H, W, 3] of the frames of ``bag`` whose stamps are in ``stamps_s`` (only those are decoded),
    keyed by the asked stamp; frames not found are left out."""
    wanted = np.array(sorted(set(stamps_s)), float)
    found: dict[float, np.ndarray] = {}
    if not len(wanted):
        return found
    for frame in read_drive(bag, image_topic, fix_topic).frames():
        i = int(np.argmin(np.abs(wanted - frame.stamp)))
        if abs(wanted[i] - frame.stamp) <= STAMP_TOLERANCE_S and float(wanted[i]) not in found:
            try:
                found[float(wanted[i])] = frame.load()
            except DecodeError:
                continue
            if len(found) == len(wanted):
                break
    return found


def place_image_loader(geo_map: Map) -> Callable[[list[int]], dict[int, np.ndarray]]:
    """A function: place indices -> their source images (RGB) that can still be read, by index."""
    source = geo_map.info.get("created", {}).get("source", {})
    kind, root = source.get("kind"), Path(str(source.get("path", "")))
    ids = geo_map.places.ids

    def from_files(places: list[int]) -> dict[int, np.ndarray]:
        base = root if kind == "images" else root.parent  # CSV image paths are relative to the CSV
        by_name: dict[str, Path] | None = None
        out = {}
        for p in places:
            path = base / str(ids[p])
            if not path.is_file() and kind == "images" and root.is_dir():
                by_name = by_name if by_name is not None else {f.name: f for f in root.rglob("*") if f.is_file()}
                path = by_name.get(str(ids[p]), path)
            try:
                out[p] = load_rgb(str(path)) if path.is_file() else None
            except DatasetError:
                out[p] = None
        return {p: rgb for p, rgb in out.items() if rgb is not None}

    def from_bag(places: list[int]) -> dict[int, np.ndarray]:
        try:
            stamps = {p: float(str(ids[p]).rsplit("@", 1)[-1]) for p in places}
            images = bag_images_at(root, source["image_topic"], source["fix_topic"], stamps.values())
        except (BagError, KeyError, ValueError):
            return {}
        return {p: images[s] for p, s in stamps.items() if s in images}

    if kind == "bag":
        return from_bag
    if kind in ("images", "csv"):
        return from_files
    return lambda places: {}
