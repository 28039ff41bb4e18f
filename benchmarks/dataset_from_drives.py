"""Benchmark: `vgssl-train dataset` throughput against the map builder's decode, on one simulated drive.

Run: .venv/bin/python benchmarks/dataset_from_drives.py [--route-m 400] [--storage sqlite3] [--compressed]
Both read the same bag. "map-builder decode" is what `vgssl-map build --bag` does before embedding: each frame
paired with its fix (the shared pairing code) and decoded (resize to the model input left out). "dataset" is
the whole `build_dataset` (pairing, spacing, JPEG encoding of the kept frames, splits, renames, dataset.json),
with the default 2 m spacing and with every frame kept (--min-spacing 0, the worst case). Frames per second
count the bag's image messages. Target: the dataset step is never slower than the map builder's decode.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vgssl_ros.mapping.sources import bag_source
from vgssl_ros.sim import Camera, WorldSpec
from vgssl_ros.sim.drive import DriveSpec, write_drive
from vgssl_ros.sim.world import build_world
from vgssl_train.drives import DriveOptions, build_dataset


def main() -> None:
    """Write a drive, then time the map builder's decode and the dataset command on it (best of --repeat)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--route-m", type=float, default=400.0, help="route length (default: %(default)s)")
    parser.add_argument("--storage", default="sqlite3", choices=["sqlite3", "mcap"])
    parser.add_argument("--compressed", action="store_true", help="read /camera/image_raw/compressed (JPEG)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, best reported (default: %(default)s)")
    args = parser.parse_args()
    world = build_world(WorldSpec(seed=0, route_m=args.route_m))
    with tempfile.TemporaryDirectory() as tmp:
        bag = Path(tmp) / "drive"
        spec = DriveSpec("day", storage=args.storage, compressed=args.compressed)
        write_drive(world, bag, (0.0, world.length_m), spec, Camera())
        topic = "/camera/image_raw/compressed" if args.compressed else "/camera/image_raw"
        camera = Camera()
        size = f"{camera.width}x{camera.height}"
        print(f"drive: {world.length_m:.0f} m, {size}, {spec.camera_hz:g} Hz, {args.storage}, {topic}")

        def decode() -> int:
            n = 0
            for frame in bag_source(bag, topic, "/gnss/fix").frames:
                frame.load()
                n += 1
            return n

        def dataset(spacing: float) -> int:
            out = Path(tempfile.mkdtemp(dir=tmp)) / "ds"
            info = build_dataset(
                [bag], out, DriveOptions(image_topic=topic, min_spacing_m=spacing), database_only=True, quiet=True
            )
            return info["drives"][0]["images"]

        for name, run in (
            ("map-builder decode", decode),
            ("dataset, 2 m spacing", lambda: dataset(2.0)),
            ("dataset, every frame", lambda: dataset(0.0)),
        ):
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                n = run()
                best = min(best, time.perf_counter() - start)
            print(f"{name:24s} {n} frames in {best:.2f} s: {n / best:.0f} frames/s")


if __name__ == "__main__":
    main()
